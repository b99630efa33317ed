"""`BotApiSandbox`: a loopback Telegram Bot API server for tests, the demo and benchmarks.

The real python-telegram-bot Application talks to it over HTTP (`base_url`/`base_file_url`), in the
same event loop or from another process. Besides serving the API it records every call, injects
faults, and knows when the bot has finished reacting to a simulated user — see `wait_handled`.
"""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Literal, Self

from aiohttp import web

from bot.sandbox.activity import NO_CHAT, Activity
from bot.sandbox.errors import ApiError, not_found, too_many_requests, unauthorized
from bot.sandbox.flood import FloodControl
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
from bot.sandbox.params import Params, read_params
from bot.sandbox.state import GroupKind, SandboxState
from bot.sandbox.updates import UpdateQueue, WebhookPusher
from bot.sandbox.users import SimUser

FaultKind = Literal["429", "500", "disconnect"]
_POLL_INTERVAL = 0.005
_REPORTED_CALLS = 8


@dataclass
class _Fault:
    """One injected failure, consumed by the next matching call (getUpdates only when named)."""

    kind: FaultKind
    method: str | None
    retry_after: int = 1

    def matches(self, method: str) -> bool:
        if self.method is None:
            return method.lower() != "getupdates"
        return self.method.lower() == method.lower()

    def error(self) -> ApiError:
        if self.kind == "429":
            return too_many_requests(self.retry_after)
        return ApiError(500, "Internal Server Error")


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
    ) -> None:
        self.token = token
        self.clock = clock
        self.settle = settle
        self.timeout = timeout
        self.calls: list[ApiCall] = []
        self.stats = SandboxStats()
        self.webhook_deliveries: list[WebhookDelivery] = []
        self.on_call: list[Callable[[ApiCall], None]] = []
        self.state = SandboxState(int(token.split(":", 1)[0]), bot_username)
        self.flood = FloodControl(global_limit, per_chat_limit, group_limit_per_minute)
        self._queue = UpdateQueue()
        self._pusher = WebhookPusher(self._queue, self._mark_delivered, self.webhook_deliveries, time.time)
        self._methods = BotApiMethods(
            self.state,
            self._queue,
            self._pusher,
            self.flood,
            clock=clock,
            on_delivered=self._mark_delivered,
            callback_query_ttl=callback_query_ttl,
        )
        self._faults: list[_Fault] = []
        self._awaiting_reaction: list[UpdateRecord] = []
        self._activity = Activity()
        self._waiting = 0
        self._runner: web.AppRunner | None = None
        self._address: tuple[str, int] | None = None

    # --- lifecycle ----------------------------------------------------------------------------

    async def start(self, port: int = 0, host: str = "127.0.0.1") -> None:
        """Serve on `port` (0: any free port); `base_url` is valid afterwards."""
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", r"/bot{token}/{method}", self._handle_method)
        app.router.add_get(r"/file/bot{token}/{path:.+}", self._handle_file)
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

    def sent_to(self, chat: int | str) -> list[ApiCall]:
        """Every message-producing call aimed at a chat, including refused ones (403, 429...)."""
        chat_id = self.state.resolve(chat).id
        return [c for c in self.calls if c.chat_id == chat_id and c.method.lower() in MESSAGE_METHODS]

    @property
    def pending_updates(self) -> int:
        return self._queue.pending_count

    # --- updates and synchronisation ----------------------------------------------------------

    def push_update(self, payload: JsonDict) -> UpdateRecord:
        """Queue a raw update (update_id assigned if missing) and start tracking its handling."""
        update_id = self._queue.push(payload)
        kind = next((key for key in payload if key != "update_id"), "unknown")
        chat_id, query_id, message_id = _update_target(kind, payload.get(kind))
        record = UpdateRecord(update_id, kind, payload, time.monotonic(), self.clock(), chat_id, query_id, message_id)
        self.state.updates[update_id] = record
        if kind == "callback_query":
            self.state.track_callback(record)
        elif chat_id is not None:
            self._awaiting_reaction.append(record)
        return record

    async def wait_handled(
        self, record: UpdateRecord, *, expect_reply: bool = True, timeout: float | None = None
    ) -> None:
        """Return once the bot received `record`, reacted to it, and went quiet for `settle` seconds.

        Reacting means answering a callback query, or making any API call toward the update's chat.
        Raises AssertionError with the recent calls after `timeout` (default `self.timeout`).
        """
        limit = self.timeout if timeout is None else timeout
        deadline = time.monotonic() + limit
        self._waiting += 1
        try:
            while (stage := self._unfinished_stage(record, expect_reply)) is not None:
                if time.monotonic() >= deadline:
                    raise AssertionError(self._timeout_report(record, stage, limit))
                await asyncio.sleep(_POLL_INTERVAL)
        finally:
            self._waiting -= 1

    @property
    def is_quiet(self) -> bool:
        """No bot call in flight and none started or finished within the settle window."""
        return self._activity.quiet(self.settle)

    def _settled(self, record: UpdateRecord) -> bool:
        """Sandbox-wide quiet for one user at a time; with concurrent users, quiet in their chat.

        Waiting for global silence while other simulated users keep the bot busy could starve.
        """
        if self._waiting > 1:
            return self._activity.chat_quiet(record.chat_id, self.settle)
        return self.is_quiet

    def _unfinished_stage(self, record: UpdateRecord, expect_reply: bool) -> str | None:
        if record.delivered_at is None:
            return "the bot never received it (is it polling getUpdates, or is a webhook set?)"
        if expect_reply and record.reacted_at is None:
            if record.kind == "callback_query":
                return "the bot never answered the callback query"
            return "the bot made no API call toward that chat"
        if not self._settled(record):
            return "the bot kept calling the API"
        return None

    def _timeout_report(self, record: UpdateRecord, stage: str, limit: float) -> str:
        lines = [f"{record.kind} update {record.update_id}: {stage} (waited {limit:g}s). Last API calls:"]
        lines += [f"  {_describe(call)}" for call in self.calls[-_REPORTED_CALLS:]] or ["  (none)"]
        return "\n".join(lines)

    def _mark_delivered(self, update_id: int) -> None:
        record = self.state.updates.get(update_id)
        if record is not None and record.delivered_at is None:
            record.delivered_at = time.monotonic()
            self._activity.touch(record.chat_id)

    # --- fault injection ----------------------------------------------------------------------

    def inject_429(self, method: str | None = None, count: int = 1, retry_after: int = 1) -> None:
        """Answer the next `count` matching calls with 429 regardless of the flood limits."""
        self._faults += [_Fault("429", method, retry_after) for _ in range(count)]

    def inject_network_error(
        self, count: int = 1, *, method: str | None = None, mode: Literal["disconnect", "500"] = "disconnect"
    ) -> None:
        """Fail the next `count` matching calls by dropping the connection or answering 500."""
        self._faults += [_Fault(mode, method) for _ in range(count)]

    def _take_fault(self, method: str) -> _Fault | None:
        for index, fault in enumerate(self._faults):
            if fault.matches(method):
                return self._faults.pop(index)
        return None

    # --- HTTP ---------------------------------------------------------------------------------

    async def _handle_method(self, request: web.Request) -> web.StreamResponse:
        method = request.match_info["method"]
        started = time.monotonic()
        failure: ApiError | None = None
        try:
            params = await read_params(request)
        except ApiError as exc:
            params, failure = Params({}), exc
        chat_id = self._call_chat(method, params)
        # A long poll is the bot waiting, not the bot working.
        tracked = method.lower() != "getupdates"
        if tracked:
            self._activity.begin(chat_id)
        try:
            fault = self._take_fault(method) if request.match_info["token"] == self.token else None
            if fault is not None and fault.kind == "disconnect":
                return self._disconnect(request)
            status, body = await self._dispatch(request, method, params, failure or fault)
            duration = time.monotonic() - started
            self._record(ApiCall(method, params.loggable(), status, body, started, duration, chat_id))
            return web.json_response(body, status=status)
        finally:
            if tracked:
                self._activity.end(chat_id)

    async def _dispatch(
        self, request: web.Request, method: str, params: Params, failure: ApiError | _Fault | None
    ) -> tuple[int, JsonDict]:
        try:
            if request.match_info["token"] != self.token:
                raise unauthorized()
            if isinstance(failure, _Fault):
                raise failure.error()
            if failure is not None:
                raise failure
            handler = self._methods.lookup(method)
            if handler is None:
                raise not_found()
            return 200, {"ok": True, "result": await handler(params)}
        except ApiError as exc:
            return exc.code, exc.body()

    async def _handle_file(self, request: web.Request) -> web.StreamResponse:
        self._activity.begin(NO_CHAT)
        try:
            if request.match_info["token"] != self.token:
                return web.json_response(unauthorized().body(), status=401)
            stored = self.state.file_by_path(request.match_info["path"])
            if stored is None:
                return web.json_response(not_found().body(), status=404)
            return web.Response(body=stored.data, content_type=stored.mime_type or "application/octet-stream")
        finally:
            self._activity.end(NO_CHAT)

    @staticmethod
    def _disconnect(request: web.Request) -> web.StreamResponse:
        if request.transport is not None:
            request.transport.close()
        return web.Response(status=500)

    def _call_chat(self, method: str, params: Params) -> int | None:
        if method.lower() == "answercallbackquery":
            record = self.state.callbacks.get(params.get_str("callback_query_id") or "")
            return record.chat_id if record is not None else None
        chat = self.state.find(params.values.get("chat_id"))
        return chat.id if chat is not None else None

    def _record(self, call: ApiCall) -> None:
        self.calls.append(call)
        self.stats.methods[call.method] += 1
        self.stats.statuses[call.status] += 1
        if call.chat_id is not None:
            self._note_reaction(call)
        for hook in self.on_call:
            hook(call)

    def _note_reaction(self, call: ApiCall) -> None:
        for record in self._awaiting_reaction:
            if record.chat_id == call.chat_id and record.delivered_at is not None and call.at >= record.delivered_at:
                record.reacted_at = call.at
        self._awaiting_reaction = [r for r in self._awaiting_reaction if r.reacted_at is None]


def _update_target(kind: str, body: Any) -> tuple[int | None, str | None, int | None]:
    """(chat id, callback query id, tapped message id) of an update, as far as it has them."""
    if not isinstance(body, dict):
        return None, None, None
    if kind == "callback_query":
        message = body.get("message") or {}
        return (message.get("chat") or {}).get("id"), body.get("id"), message.get("message_id")
    return (body.get("chat") or {}).get("id"), None, None


def _describe(call: ApiCall) -> str:
    shown = {k: v for k, v in call.params.items() if k in {"chat_id", "text", "message_id", "callback_query_id"}}
    outcome = "ok" if call.ok else call.response.get("description", "")
    return f"{call.method} {shown} -> {call.status} {outcome}"
