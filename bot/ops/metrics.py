"""Prometheus metrics of one bot process, in its own registry (two Applications in one test process
never share counters). Built only when `[metrics] port` is set, so a bot without it pays nothing.

- `redheart_updates_total{kind}`: updates handled (message, callback_query, inline_query, other);
- `redheart_taps_total`: button taps (callback queries);
- `redheart_bot_api_calls_total{method}`, `redheart_bot_api_errors_total{method,code}` and
  `redheart_bot_api_rate_limited_total{method}` (429s), counted on every HTTP response of the Bot API;
- `redheart_outbox_backlog{kind}`: invitations queued and thank-yous owed; `redheart_rounds{status}`;
  both read from the database when scraped;
- `redheart_reconcile_last_run_timestamp_seconds`: when the scheduler last finished a pass.
"""

from __future__ import annotations

import time
from typing import Any

import httpx
from prometheus_client import CollectorRegistry, Counter, Gauge, generate_latest
from telegram import Update
from telegram.request import HTTPXRequest

from bot.domain.gauges import read_gauges
from bot.domain.runtime import Runtime
from bot.retry import RetryingRequest


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.updates = Counter("redheart_updates", "Updates handled, by kind", ["kind"], registry=r)
        self.taps = Counter("redheart_taps", "Button taps (callback queries) handled", registry=r)
        self.api_calls = Counter("redheart_bot_api_calls", "Bot API calls answered, by method", ["method"], registry=r)
        self.api_errors = Counter("redheart_bot_api_errors", "Bot API calls answered with an error, by method and "
                                  "HTTP status", ["method", "code"], registry=r)
        self.rate_limited = Counter("redheart_bot_api_rate_limited", "Bot API calls answered 429 (flood limit), "
                                    "by method", ["method"], registry=r)
        self.backlog = Gauge("redheart_outbox_backlog", "Messages owed, not yet sent", ["kind"], registry=r)
        self.rounds = Gauge("redheart_rounds", "Rounds by status", ["status"], registry=r)
        self.last_reconcile = Gauge("redheart_reconcile_last_run_timestamp_seconds",
                                    "Unix time the scheduler last finished a pass", registry=r)

    async def count_update(self, update: object, _context: Any) -> None:
        """A TypeHandler callback, run before every other handler; it never stops the update."""
        kind = "other"
        if isinstance(update, Update):
            kind = ("callback_query" if update.callback_query else "message" if update.effective_message
                    else "inline_query" if update.inline_query else "other")
            if update.callback_query:
                self.taps.inc()
        self.updates.labels(kind).inc()

    async def on_response(self, response: httpx.Response) -> None:
        """httpx's response hook: one Bot API answer (the method is the URL's last segment)."""
        method = response.request.url.path.rsplit("/", 1)[-1] or "unknown"
        self.api_calls.labels(method).inc()
        if response.status_code >= 400:
            self.api_errors.labels(method, str(response.status_code)).inc()
        if response.status_code == 429:
            self.rate_limited.labels(method).inc()

    def request(self, *, get_updates: bool) -> HTTPXRequest:
        """The requests `bot.app` would use, with the response hook: PTB's for getUpdates (pool of 1),
        the retrying one for the rest (pool of 256; each attempt is a call, so a retried 429 counts)."""
        hooks = {"event_hooks": {"response": [self.on_response]}}
        if get_updates:
            return HTTPXRequest(connection_pool_size=1, httpx_kwargs=hooks)
        return RetryingRequest(connection_pool_size=256, httpx_kwargs=hooks)

    def reconciled(self) -> None:
        self.last_reconcile.set(time.time())

    async def exposition(self, rt: Runtime) -> bytes:
        """The text a scrape gets, its database gauges read now."""
        gauges = await read_gauges(rt)
        for status, n in gauges.rounds.items():
            self.rounds.labels(status).set(n)
        self.backlog.labels("invitations").set(gauges.invitations_owed)
        self.backlog.labels("thanks").set(gauges.thanks_owed)
        return bytes(generate_latest(self.registry))
