"""Running the bot: open the database, build the Application, poll or serve the webhook, stop cleanly."""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager, suppress
from urllib.parse import urlparse

from telegram import Update

from bot.app import App, build_application
from bot.config import Config
from bot.domain.clock import Clock, SystemClock
from bot.domain.runtime import Runtime
from bot.ops.http import add_health_to_webhook, ops_server
from bot.ops.logs import configure_logging
from bot.startup import open_database, telegram_reachable
from storage.heap import freeze_startup_heap

log = logging.getLogger(__name__)


@asynccontextmanager
async def running(app: App, *, poll_timeout: int = 10) -> AsyncIterator[App]:
    """Starts the Application and its updater (polling or webhook, per config) for the block."""
    tg = app.bot_data.runtime.config.telegram
    # Checked before anything starts: a webhook without a strong secret would take anyone's posts.
    secret_token = app.bot_data.runtime.config.require_webhook_secret() if tg.mode == "webhook" else None
    async with app:
        await app.start()
        assert app.updater is not None
        if tg.mode == "webhook":
            path = urlparse(tg.webhook.url).path.lstrip("/")
            await app.updater.start_webhook(
                listen=tg.webhook.listen, port=tg.webhook.port, url_path=path, webhook_url=tg.webhook.url,
                secret_token=secret_token, allowed_updates=Update.ALL_TYPES,
            )
            add_health_to_webhook(app)
        else:
            await app.updater.start_polling(poll_interval=0.0, timeout=poll_timeout,
                                            allowed_updates=Update.ALL_TYPES)
        try:
            async with ops_server(app):
                yield app
        finally:
            await app.updater.stop()
            await app.stop()


async def serve(config: Config, clock: Clock | None = None) -> None:
    """The production process: runs until SIGINT or SIGTERM."""
    for warning in config.warnings():
        log.warning("%s", warning)
    db = await open_database(config.database_url)
    try:
        rt = Runtime(db, config, clock or SystemClock())
        app = build_application(rt)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            with suppress(NotImplementedError):
                loop.add_signal_handler(sig, stop.set)
        async with AsyncExitStack() as started:
            async with telegram_reachable(config.telegram.base_url, config.secrets()):
                await started.enter_async_context(running(app))
            freeze_startup_heap()
            log.info("redheart is running (%s); Ctrl+C stops it", config.telegram.mode)
            await stop.wait()
    finally:
        await db.close()


def run(config: Config) -> None:
    config.require_token()
    config.require_strong_secret()
    if config.telegram.mode == "webhook":
        config.require_webhook_secret()
    configure_logging(config.logging.format)
    logging.getLogger("httpx").setLevel(logging.WARNING)
    asyncio.run(serve(config))
