"""`BotApiSandbox`: a loopback Telegram Bot API server for tests, the demo and benchmarks.

The real python-telegram-bot Application talks to it over HTTP (`base_url`/`base_file_url`), in the
same event loop or from another process. Besides serving the API it records every call, injects
faults and latency (`inject_fault`, `latency`), holds what the bot set as its profile (`commands`,
`menu_for`, `description`), and knows when the bot has finished reacting to a simulated user — see
`wait_handled`.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Callable
from types import TracebackType
from typing import Literal, Self

from aiohttp import web

from bot.sandbox.endpoint import ApiEndpoint
from bot.sandbox.flood import FloodControl
from bot.sandbox.inline import InlineMethods
from bot.sandbox.methods import MESSAGE_METHODS, BotApiMethods
from bot.sandbox.models import (
    ApiCall,
    JsonDict,
    SandboxStats,
    StoredMessage,
    UpdateRecord,
    UserProfile,
    WebhookDelivery,
)
from bot.sandbox.network import DEFAULT_HANG, Fault, FaultKind, Network
from bot.sandbox.profile import BotProfile, MenuCommand, ProfileMethods, menu_precedence, scope_key
from bot.sandbox.state import GroupKind, SandboxState
from bot.sandbox.sync import HandlingTracker
from bot.sandbox.updates import UpdateQueue, WebhookPusher
from bot.sandbox.users import SimUser

_REPORTED_CALLS = 8
_DESCRIBED_PARAMS = {"chat_id", "text", "message_id", "callback_query_id", "inline_query_id"}
ChatRef = int | str | SimUser


class BotApiSandbox:
    """A fake Telegram for one bot token, bound to 127.0.0.1."""

    def __init__(
        self,
        token: str = "123456:SANDBOX",
        *,
        global_limit: float | None = None,
        per_chat_limit: float | None = None,
        group_limit_per_minute: float | None = None,
        clock: Callable[[], float] = time.monotonic,
        callback_query_ttl: float | None = None,
        settle: float = 0.03,
        timeout: float = 10.0,
        bot_username: str = "sandbox_bot",
        latency: float = 0.0,
        inline_query_ttl: float | None = None,
        inline_feedback: bool = False,
    ) -> None:
        self.token = token
        # BotFather's /setinlinefeedback: only then does the bot get chosen_inline_result updates.
        self.inline_feedback = inline_feedback
        self.clock = clock
        self.settle = settle
        self.timeout = timeout
        self.calls: list[ApiCall] = []
        self.stats = SandboxStats()
        self.webhook_deliveries: list[WebhookDelivery] = []
        self.on_call: list[Callable[[ApiCall], None]] = []
        self.state = SandboxState(int(token.split(":", 1)[0]), bot_username)
        self.flood = FloodControl(global_limit, per_chat_limit, group_limit_per_minute)
        self.network = Network(latency)
        self._tracker = HandlingTracker(self.state)
        self._queue = UpdateQueue()
        self._pusher = WebhookPusher(self._queue, self._tracker.mark_delivered, self.webhook_deliveries, time.time)
        self._methods = BotApiMethods(
            self.state,
            self._queue,
            self._pusher,
            self.flood,
            clock=clock,
            on_delivered=self._tracker.mark_delivered,
            callback_query_ttl=callback_query_ttl,
        )
        self.profile = BotProfile()
        self._methods.register(ProfileMethods(self.state, self.profile).handlers())
        self._methods.register(InlineMethods(self.state, clock=clock, ttl=inline_query_ttl).handlers())
        self._endpoint = ApiEndpoint(token, self._methods, self.state, self.network, self._tracker, self._record)
        self._runner: web.AppRunner | None = None
        self._address: tuple[str, int] | None = None

    # --- lifecycle ----------------------------------------------------------------------------

    async def start(self, port: int = 0, host: str = "127.0.0.1") -> None:
        """Serve on `port` (0: any free port); `base_url` is valid afterwards."""
        app = self._endpoint.application()
        # Cancelling handlers of dropped connections keeps an abandoned long poll from
        # swallowing updates; the short shutdown timeout keeps stop() fast.
        self._runner = web.AppRunner(app, handler_cancellation=True, shutdown_timeout=0.5, access_log=None)
        await self._runner.setup()
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        self._address = (host, sock.getsockname()[1])
        await web.SockSite(self._runner, sock).start()

    async def stop(self) -> None:
        await self._pusher.stop()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.stop()

    @property
    def base_url(self) -> str:
        """For `ApplicationBuilder().base_url(...)`: PTB appends "{token}/{method}"."""
        return f"{self._origin}/bot"

    @property
    def base_file_url(self) -> str:
        """For `ApplicationBuilder().base_file_url(...)`: PTB appends "{token}/{file_path}"."""
        return f"{self._origin}/file/bot"

    @property
    def _origin(self) -> str:
        if self._address is None:
            raise RuntimeError("the sandbox is not started; await sandbox.start() first")
        host, port = self._address
        return f"http://{host}:{port}"

    # --- world setup and inspection -----------------------------------------------------------

    def user(
        self,
        first_name: str = "User",
        language_code: str | None = "en",
        user_id: int | None = None,
        username: str | None = None,
        *,
        last_name: str | None = None,
        started: bool = False,
    ) -> SimUser:
        """A new simulated user with a private chat; ids count up from 10001 unless given."""
        profile = UserProfile(
            id=user_id if user_id is not None else self.state.next_user_id(),
            first_name=first_name,
            last_name=last_name,
            username=username,
            language_code=language_code,
            started=started,
        )
        return SimUser(self, self.state.add_user(profile))

    @property
    def bot_username(self) -> str:
        return str(self.state.bot_user["username"])

    def deep_link(self, payload: str) -> str:
        """The t.me link that starts the bot with `payload`, for `SimUser.open_link`."""
        return f"https://t.me/{self.bot_username}?start={payload}"

    def add_channel(
        self,
        chat: int | str,
        title: str = "Sandbox channel",
        *,
        username: str | None = None,
        kind: GroupKind = "channel",
    ) -> int:
        """Register a channel (or group) the bot may post to, by id or "@username"; returns its id."""
        return self.state.add_group(chat, title, username, kind).id

    def chat_messages(self, chat: int | str) -> list[StoredMessage]:
        """What the bot posted in a chat and has not deleted, oldest first."""
        return self.state.resolve(chat).visible_messages(from_bot=True)

    def chat_history(self, chat: ChatRef) -> list[StoredMessage]:
        """Every message still shown in a chat, the bot's and its users' (e.g. sent via inline mode)."""
        return self.state.chats[self._chat_id(chat)].history()

    def sent_to(self, chat: int | str) -> list[ApiCall]:
        """Every message-producing call aimed at a chat, including refused ones (403, 429...)."""
        chat_id = self.state.resolve(chat).id
        return [c for c in self.calls if c.chat_id == chat_id and c.method.lower() in MESSAGE_METHODS]

    # --- the bot's profile, as set through the API ---------------------------------------------

    def commands(
        self,
        scope: str | JsonDict = "default",
        language_code: str = "",
        *,
        chat: ChatRef | None = None,
        user: SimUser | int | None = None,
    ) -> list[MenuCommand]:
        """The command list set for exactly this scope and language, with no fallback.

        `scope` is a BotCommandScope type, its chat and user given apart: `commands("chat", chat=admin)`,
        `commands("chat_member", chat=group, user=alice)`; or the scope's JSON object.
        """
        if isinstance(scope, str):
            scope = {"type": scope}
            if chat is not None:
                scope["chat_id"] = self._chat_id(chat)
            if user is not None:
                scope["user_id"] = user.id if isinstance(user, SimUser) else user
        return list(self.profile.commands.get((scope_key(scope, self.state), language_code), []))

    def menu_for(self, user: SimUser, chat: ChatRef | None = None, *, admin: bool = False) -> list[MenuCommand]:
        """The menu `user` sees in `chat` (default: their chat with the bot), by Telegram's precedence.

        In a private chat: chat > all_private_chats > default. In a group: chat_member >
        chat_administrators > chat > all_chat_administrators > all_group_chats > default, the
        administrator scopes only for an `admin`. Each scope first in the user's language, then
        without one; the first list set wins.
        """
        where = self.state.chats[user.id] if chat is None else self.state.chats[self._chat_id(chat)]
        return self.profile.menu(menu_precedence(where, user.id, admin=admin), user.profile.language_code)

    def description(self, language_code: str = "") -> str:
        """The description (shown in an empty chat with the bot) set for exactly this language."""
        return self.profile.descriptions.get(language_code, "")

    def short_description(self, language_code: str = "") -> str:
        """The short description (profile page, shared links) set for exactly this language."""
        return self.profile.short_descriptions.get(language_code, "")

    @property
    def pending_updates(self) -> int:
        return self._queue.pending_count

    # --- updates and synchronisation ----------------------------------------------------------

    def push_update(self, payload: JsonDict) -> UpdateRecord:
        """Queue a raw update (update_id assigned if missing) and start tracking its handling."""
        update_id = self._queue.push(payload)
        return self._tracker.track(update_id, payload, self.clock())

    async def wait_handled(
        self, record: UpdateRecord, *, expect_reply: bool = True, timeout: float | None = None
    ) -> None:
        """Return once the bot received `record`, reacted to it, and went quiet for `settle` seconds.

        Reacting means answering a callback or inline query, or making any API call toward the
        update's chat. Raises AssertionError with the recent calls after `timeout` (default
        `self.timeout`).
        """
        limit = self.timeout if timeout is None else timeout
        stage = await self._tracker.wait(record, expect_reply=expect_reply, settle=self.settle, limit=limit)
        if stage is not None:
            lines = [f"{record.kind} update {record.update_id}: {stage} (waited {limit:g}s). Last API calls:"]
            lines += [f"  {_describe(call)}" for call in self.calls[-_REPORTED_CALLS:]] or ["  (none)"]
            raise AssertionError("\n".join(lines))

    @property
    def is_quiet(self) -> bool:
        """No bot call in flight and none started or finished within the settle window."""
        return self._tracker.quiet(self.settle)

    # --- the network: faults and latency ------------------------------------------------------

    def inject_fault(
        self,
        kind: FaultKind,
        method: str | None = None,
        *,
        chat: ChatRef | None = None,
        count: int = 1,
        retry_after: int = 1,
        hang: float = DEFAULT_HANG,
    ) -> None:
        """Fail the next `count` calls to `method` (any but getUpdates if None), in `chat` if given.

        What each kind guarantees about the call:
        - "429": not performed; a 429 answer with `retry_after`, whatever the flood limits.
        - "500": not performed; a 500 answer.
        - "disconnect": not performed; the connection drops with no answer.
        - "timeout_after_delivery": performed in full (message sent, edit shown, query answered,
          recorded as `ok`), but the answer is lost: held `hang` seconds, then the connection drops.
          Pass a `hang` longer than the bot's read timeout to make it see TimedOut.
        Faulted calls are in `calls` with `fault` set (and `answered` False when no answer came).
        """
        chat_id = None if chat is None else self._chat_id(chat)
        self.network.inject(Fault(kind, method, chat_id, retry_after, hang), count)

    def inject_timeout_after_delivery(
        self, method: str | None = None, count: int = 1, *, chat: ChatRef | None = None, hang: float = DEFAULT_HANG
    ) -> None:
        """Perform the next `count` matching calls but lose their answers (see `inject_fault`)."""
        self.inject_fault("timeout_after_delivery", method, chat=chat, count=count, hang=hang)

    def inject_429(self, method: str | None = None, count: int = 1, retry_after: int = 1) -> None:
        """Answer the next `count` matching calls with 429 regardless of the flood limits."""
        self.inject_fault("429", method, count=count, retry_after=retry_after)

    def inject_network_error(
        self, count: int = 1, *, method: str | None = None, mode: Literal["disconnect", "500"] = "disconnect"
    ) -> None:
        """Fail the next `count` matching calls by dropping the connection or answering 500."""
        self.inject_fault(mode, method, count=count)

    @property
    def faulted_calls(self) -> list[ApiCall]:
        """Calls an injected fault hit, oldest first."""
        return [call for call in self.calls if call.fault is not None]

    @property
    def latency(self) -> float:
        """Round-trip time added to every call (half before the method runs, half after)."""
        return self.network.latency

    @latency.setter
    def latency(self, seconds: float) -> None:
        self.network.set_latency(seconds)

    def set_latency(self, seconds: float, method: str | None = None) -> None:
        """A slow network: `seconds` of round trip for `method`'s calls, or for all without their own."""
        self.network.set_latency(seconds, method)

    def _chat_id(self, chat: ChatRef) -> int:
        if isinstance(chat, SimUser):
            return chat.id
        found = self.state.find(chat)
        if found is None:
            raise ValueError(f"no chat {chat!r} in this sandbox; add it with user() or add_channel() first")
        return found.id

    # --- recording --------------------------------------------------------------------------

    def _record(self, call: ApiCall) -> None:
        self.calls.append(call)
        self.stats.methods[call.method] += 1
        self.stats.statuses[call.status] += 1
        if call.fault is not None:
            self.stats.faults[call.fault] += 1
        self._tracker.note_reaction(call)
        for hook in self.on_call:
            hook(call)


def _describe(call: ApiCall) -> str:
    shown = {k: v for k, v in call.params.items() if k in _DESCRIBED_PARAMS}
    outcome = "ok" if call.ok else call.response.get("description", "")
    lost = f" [{call.fault}, answer lost]" if not call.answered else (f" [{call.fault}]" if call.fault else "")
    return f"{call.method} {shown} -> {call.status} {outcome}{lost}"
