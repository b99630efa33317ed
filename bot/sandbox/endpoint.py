"""The HTTP side of the sandbox: Bot API requests in, Telegram's envelopes out, through the network.

Each request passes the token check, meets its injected fault or latency (see `network`), runs the
method and is recorded. A call stays "in flight" for the sandbox's settle logic until its answer
leaves, or until the client gives up on an answer held back by a fault.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass

from aiohttp import web

from bot.sandbox.activity import NO_CHAT
from bot.sandbox.errors import ApiError, not_found, unauthorized
from bot.sandbox.methods import BotApiMethods
from bot.sandbox.models import ApiCall, JsonDict
from bot.sandbox.network import Fault, Network
from bot.sandbox.params import Params, read_params
from bot.sandbox.state import SandboxState
from bot.sandbox.sync import HandlingTracker

MAX_REQUEST_BYTES = 64 * 1024 * 1024


@dataclass(eq=False)
class ApiEndpoint:
    """Serves `/bot{token}/{method}` and `/file/bot{token}/{path}` for one bot token."""

    token: str
    methods: BotApiMethods
    state: SandboxState
    network: Network
    tracker: HandlingTracker
    record: Callable[[ApiCall], None]

    def application(self) -> web.Application:
        app = web.Application(client_max_size=MAX_REQUEST_BYTES)
        app.router.add_route("*", r"/bot{token}/{method}", self.handle_method)
        app.router.add_get(r"/file/bot{token}/{path:.+}", self.handle_file)
        return app

    async def handle_method(self, request: web.Request) -> web.StreamResponse:
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
            self.tracker.activity.begin(chat_id)
        try:
            authorized = request.match_info["token"] == self.token
            fault = self.network.take(method, chat_id) if authorized else None
            half_trip = self.network.latency_for(method) / 2
            await _pause(half_trip)
            if fault is not None and fault.kind == "disconnect":
                self.record(ApiCall(method, params.loggable(), 0, {}, started, 0.0, chat_id, fault.kind, False))
                return _disconnect(request)
            if fault is not None and not fault.performs:
                failure = failure or fault.error()
            status, body = await self._dispatch(authorized, method, params, failure)
            call = ApiCall(method, params.loggable(), status, body, started, time.monotonic() - started, chat_id)
            return await self._answer(request, call, fault, half_trip)
        finally:
            if tracked:
                self.tracker.activity.end(chat_id)

    async def _answer(
        self, request: web.Request, call: ApiCall, fault: Fault | None, half_trip: float
    ) -> web.StreamResponse:
        if fault is not None:
            call.fault, call.answered = fault.kind, fault.answers
        self.record(call)
        if fault is not None and not fault.answers:
            # Cancelled here if the client gives up first (its read timeout): nothing to undo.
            await asyncio.sleep(fault.hang)
            return _disconnect(request)
        await _pause(half_trip)
        return web.json_response(call.response, status=call.status)

    async def _dispatch(
        self, authorized: bool, method: str, params: Params, failure: ApiError | None
    ) -> tuple[int, JsonDict]:
        try:
            if not authorized:
                raise unauthorized()
            if failure is not None:
                raise failure
            handler = self.methods.lookup(method)
            if handler is None:
                raise not_found()
            return 200, {"ok": True, "result": await handler(params)}
        except ApiError as exc:
            return exc.code, exc.body()

    async def handle_file(self, request: web.Request) -> web.StreamResponse:
        self.tracker.activity.begin(NO_CHAT)
        try:
            if request.match_info["token"] != self.token:
                return web.json_response(unauthorized().body(), status=401)
            stored = self.state.file_by_path(request.match_info["path"])
            if stored is None:
                return web.json_response(not_found().body(), status=404)
            await _pause(self.network.latency)
            return web.Response(body=stored.data, content_type=stored.mime_type or "application/octet-stream")
        finally:
            self.tracker.activity.end(NO_CHAT)

    def _call_chat(self, method: str, params: Params) -> int | None:
        """The chat a call is aimed at; a query's answer counts toward the asking user's chat."""
        queries = {
            "answercallbackquery": ("callback_query_id", self.state.callbacks),
            "answerinlinequery": ("inline_query_id", self.state.inline_queries),
        }
        if method.lower() in queries:
            field, records = queries[method.lower()]
            record = records.get(params.get_str(field) or "")
            return record.chat_id if record is not None else None
        chat = self.state.find(params.values.get("chat_id"))
        return chat.id if chat is not None else None


async def _pause(seconds: float) -> None:
    if seconds > 0:
        await asyncio.sleep(seconds)


def _disconnect(request: web.Request) -> web.StreamResponse:
    if request.transport is not None:
        request.transport.close()
    return web.Response(status=500)
