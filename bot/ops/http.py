"""`GET /healthz` and `GET /metrics` over HTTP.

/healthz answers 200 `{"status": "ok"}` when the bot receives updates (its updater runs), its
database answers, and its scheduler finished a pass lately; else 503 with the problems. In webhook
mode it is served on the webhook's own port, beside the path Telegram posts to (PTB's webhook server
is a tornado Application, which takes more routes while running), so the check a reverse proxy or
an orchestrator makes is of the very server that takes the updates. With `[metrics] port`, a small
aiohttp server serves /healthz and /metrics (Prometheus) in any mode.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

import tornado.web  # PTB's own webhook server: loaded with PTB anyway
from prometheus_client import CONTENT_TYPE_LATEST
from sqlalchemy import text

if TYPE_CHECKING:
    from aiohttp import web

    from bot.app import App

log = logging.getLogger(__name__)

#: The scheduler is stale after this many ticks without a finished pass (a pass is at most ~0.8 tick
#: of sending, then the next one starts), and never sooner than a minute.
STALE_TICKS = 3
STALE_FLOOR_SECONDS = 60.0
DB_TIMEOUT_SECONDS = 3.0


async def health(app: App) -> tuple[int, dict[str, Any]]:
    """(HTTP status, body) of the health check."""
    shared = app.bot_data
    problems = []
    if app.updater is None or not app.updater.running:
        problems.append("updater: not receiving updates")
    try:
        async with asyncio.timeout(DB_TIMEOUT_SECONDS), shared.runtime.db.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
    except Exception as exc:  # any failure is the answer to the check, never a crash of the endpoint
        problems.append(f"database: {type(exc).__name__}: {exc}"[:200])
    stale_after = max(STALE_TICKS * shared.runtime.config.rounds.tick.total_seconds(), STALE_FLOOR_SECONDS)
    since = time.monotonic() - shared.last_reconcile
    if since > stale_after:
        problems.append("scheduler: no pass yet" if since == float("inf")
                        else f"scheduler: last pass {since:.0f} s ago")
    if problems:
        return 503, {"status": "fail", "problems": problems}
    return 200, {"status": "ok", "mode": shared.runtime.config.telegram.mode}


class _TornadoHealth(tornado.web.RequestHandler):
    def initialize(self, app: App) -> None:
        self.bot_app = app

    async def get(self) -> None:
        status, body = await health(self.bot_app)
        self.set_status(status)
        self.set_header("Content-Type", "application/json")
        self.finish(json.dumps(body))


def add_health_to_webhook(app: App) -> bool:
    """Serves /healthz on PTB's running webhook server; False (and a warning) when PTB's internals
    changed so it cannot (then `[metrics] port` still serves it)."""
    server = getattr(getattr(app.updater, "_httpd", None), "_http_server", None)
    webhook_app = getattr(server, "request_callback", None)
    if not isinstance(webhook_app, tornado.web.Application):
        log.warning("cannot add /healthz to PTB's webhook server; set [metrics] port to serve it")
        return False
    webhook_app.add_handlers(r".*", [(r"/healthz", _TornadoHealth, {"app": app})])
    return True


@asynccontextmanager
async def ops_server(app: App) -> AsyncIterator[None]:
    """Serves /healthz and /metrics on `[metrics] listen:port` for the block; nothing when port is 0."""
    config = app.bot_data.runtime.config.metrics
    if not config.port:
        yield
        return
    from aiohttp import web  # ~11 MB of imports, for a bot that serves metrics


    async def healthz(_request: web.Request) -> web.Response:
        status, body = await health(app)
        return web.json_response(body, status=status)

    async def metrics(_request: web.Request) -> web.Response:
        exposed = app.bot_data.metrics
        assert exposed is not None  # built whenever the port is set
        body = await exposed.exposition(app.bot_data.runtime)
        return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})

    server = web.Application()
    server.router.add_get("/healthz", healthz)
    server.router.add_get("/metrics", metrics)
    runner = web.AppRunner(server, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, config.listen, config.port).start()
    log.info("metrics and health on http://%s:%s/metrics", config.listen, config.port)
    try:
        yield
    finally:
        await runner.cleanup()
