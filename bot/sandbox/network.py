"""The network between the bot and the emulated Telegram: injected faults and latency.

A bot that must not lose or duplicate messages has to survive four different failures, and each
leaves it knowing something different about whether Telegram acted:

| kind                     | the method ran? | what the bot sees                                        |
|--------------------------|-----------------|----------------------------------------------------------|
| "429"                    | no              | 429 Too Many Requests with `retry_after` (RetryAfter)     |
| "500"                    | no              | 500 Internal Server Error (NetworkError)                  |
| "disconnect"             | no              | the connection dropped before any answer (NetworkError)  |
| "timeout_after_delivery" | yes, fully      | no answer: held `hang` seconds, then the connection drops |

The last one is the dangerous case: the message is in the chat, but a bot that retries sends it twice.
With `hang` past the client's read timeout the bot sees TimedOut; with a shorter `hang` (0 drops at
once) it sees the connection drop. Either way the answer is lost.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Literal, get_args

from bot.sandbox.errors import ApiError, too_many_requests

FaultKind = Literal["429", "500", "disconnect", "timeout_after_delivery"]
FAULT_KINDS: tuple[FaultKind, ...] = get_args(FaultKind)
# One second past PTB's default read timeout (5 s), so a bot with default settings times out.
DEFAULT_HANG = 6.0


@dataclass
class Fault:
    """One injected failure, consumed by the next matching call.

    `method` None matches any method but getUpdates (a long poll is named explicitly or never
    faulted); `chat_id` None matches any chat, otherwise only calls aimed at that chat.
    """

    kind: FaultKind
    method: str | None = None
    chat_id: int | None = None
    retry_after: int = 1
    hang: float = DEFAULT_HANG

    def __post_init__(self) -> None:
        if self.kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {self.kind!r}; expected one of {', '.join(FAULT_KINDS)}")

    def matches(self, method: str, chat_id: int | None) -> bool:
        if self.chat_id is not None and self.chat_id != chat_id:
            return False
        if self.method is None:
            return method.lower() != "getupdates"
        return self.method.lower() == method.lower()

    @property
    def performs(self) -> bool:
        """Whether the method still runs, its effect visible, despite the fault."""
        return self.kind == "timeout_after_delivery"

    @property
    def answers(self) -> bool:
        """Whether the bot gets any HTTP answer at all."""
        return self.kind in ("429", "500")

    def error(self) -> ApiError:
        """The error answer of a refusing fault."""
        if self.kind == "429":
            return too_many_requests(self.retry_after)
        return ApiError(500, "Internal Server Error")


class Network:
    """Pending faults, and the round-trip time each method's calls take."""

    def __init__(self, latency: float = 0.0) -> None:
        self.faults: list[Fault] = []
        self.latency = latency
        self._method_latency: dict[str, float] = {}

    def inject(self, fault: Fault, count: int) -> None:
        self.faults += [replace(fault) for _ in range(count)]

    def take(self, method: str, chat_id: int | None) -> Fault | None:
        """Remove and return the first pending fault matching this call, if any."""
        for index, fault in enumerate(self.faults):
            if fault.matches(method, chat_id):
                return self.faults.pop(index)
        return None

    def set_latency(self, seconds: float, method: str | None = None) -> None:
        """Round-trip time for one method, or the default for all methods without their own."""
        if seconds < 0:
            raise ValueError("latency cannot be negative")
        if method is None:
            self.latency = seconds
        else:
            self._method_latency[method.lower()] = seconds

    def latency_for(self, method: str) -> float:
        return self._method_latency.get(method.lower(), self.latency)
