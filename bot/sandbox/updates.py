"""Pending updates and the two ways Telegram hands them to a bot: long polling and a webhook.

Updates stay pending until confirmed, exactly as in the Bot API: by a getUpdates `offset` past them,
or by a webhook answering 2xx. Delivery is reported through `on_delivered` so the sandbox can tell a
simulated user when the bot has actually received what they did.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from dataclasses import dataclass, field

import aiohttp

from bot.sandbox.models import JsonDict, WebhookDelivery

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


class UpdateQueue:
    """Ordered pending updates with a wake-up for long polls."""

    def __init__(self) -> None:
        self._pending: list[JsonDict] = []
        self._next_id = 1
        self._arrived = asyncio.Event()

    def push(self, payload: JsonDict) -> int:
        """Queue an update, assigning `update_id` unless the payload already has one."""
        update_id = int(payload.setdefault("update_id", self._next_id))
        self._next_id = max(self._next_id, update_id + 1)
        self._pending.append(payload)
        self._arrived.set()
        # Waiters hold the event they waited on; a fresh one re-arms the next wait.
        self._arrived = asyncio.Event()
        return update_id

    @property
    def pending_count(self) -> int:
        return len(self._pending)

    def confirm(self, offset: int) -> None:
        """Forget updates below `offset`; a negative offset keeps only the last -offset updates."""
        if offset < 0:
            self._pending = self._pending[offset:]
        else:
            self._pending = [u for u in self._pending if u["update_id"] >= offset]

    def remove(self, update_id: int) -> None:
        self._pending = [u for u in self._pending if u["update_id"] != update_id]

    def clear(self) -> None:
        self._pending.clear()

    async def wait_batch(self, limit: int, timeout: float) -> list[JsonDict]:
        """Up to `limit` pending updates, waiting up to `timeout` seconds for the first one."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not self._pending:
            remaining = deadline - loop.time()
            if remaining <= 0:
                return []
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._arrived.wait(), remaining)
        return list(self._pending[:limit])


@dataclass
class Webhook:
    """What setWebhook configured, plus the last failure getWebhookInfo reports."""

    url: str
    secret_token: str | None = None
    max_connections: int = 40
    last_error_date: int | None = None
    last_error_message: str | None = None


@dataclass
class WebhookPusher:
    """POSTs pending updates one by one to the webhook, retrying a few times before dropping one.

    Telegram would keep retrying for hours; dropping after `attempts` keeps a broken test from
    stalling, and the failure stays visible in `deliveries` and getWebhookInfo.
    """

    _queue: UpdateQueue
    _on_delivered: Callable[[int], None]
    _deliveries: list[WebhookDelivery]
    _clock: Callable[[], float]
    _attempts: int = 3
    _retry_delay: float = 0.05
    webhook: Webhook | None = None
    _task: asyncio.Task[None] | None = field(default=None, init=False)

    def start(self, webhook: Webhook) -> None:
        self.webhook = webhook
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="sandbox-webhook-pusher")

    async def stop(self) -> None:
        self.webhook = None
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _run(self) -> None:
        async with aiohttp.ClientSession() as session:
            while True:
                batch = await self._queue.wait_batch(limit=1, timeout=3600)
                if batch and self.webhook is not None:
                    await self._deliver(session, self.webhook, batch[0])

    async def _deliver(self, session: aiohttp.ClientSession, webhook: Webhook, update: JsonDict) -> None:
        status, attempts = await self._post_with_retries(session, webhook, update)
        update_id = int(update["update_id"])
        self._deliveries.append(WebhookDelivery(update_id, status, attempts))
        self._queue.remove(update_id)
        if _succeeded(status):
            self._on_delivered(update_id)

    async def _post_with_retries(
        self, session: aiohttp.ClientSession, webhook: Webhook, update: JsonDict
    ) -> tuple[int | None, int]:
        status: int | None = None
        for attempt in range(1, self._attempts + 1):
            status, error = await self._post(session, webhook, update)
            if _succeeded(status):
                return status, attempt
            webhook.last_error_date = int(self._clock())
            webhook.last_error_message = error
            if attempt < self._attempts:
                await asyncio.sleep(self._retry_delay * attempt)
        return status, self._attempts

    @staticmethod
    async def _post(session: aiohttp.ClientSession, webhook: Webhook, update: JsonDict) -> tuple[int | None, str]:
        headers = {SECRET_HEADER: webhook.secret_token} if webhook.secret_token else {}
        try:
            async with session.post(webhook.url, json=update, headers=headers) as response:
                return response.status, f"Wrong response from the webhook: {response.status} {response.reason}"
        except aiohttp.ClientError as exc:
            return None, f"Connection failed: {exc}"


def _succeeded(status: int | None) -> bool:
    return status is not None and 200 <= status < 300
