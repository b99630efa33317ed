"""PTB's `bot_data`, typed: what one bot process shares between its updates and its scheduler job.

`build_application` fills it once; handlers and the job read it as `context.bot_data.runtime` and so
on, never by string keys.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeAlias

from telegram.ext import CallbackContext, ExtBot

from bot.config import Config
from bot.domain.runtime import Runtime
from bot.flood import FloodGuard
from bot.ops.metrics import Metrics
from bot.sender import Campaign


@dataclass
class BotData:
    """PTB makes it empty (`ContextTypes(bot_data=BotData)`); `bot.app.build_application` sets every
    field without a default before the Application starts."""

    runtime: Runtime[Config] = field(init=False)
    # The sender's pacer and counters, shared by every reconcile run of this process.
    campaign: Campaign = field(init=False)
    flood: FloodGuard = field(init=False)
    # Runs the reconcile job now (after an admin command), besides its regular ticks.
    wake: Callable[[], None] = field(init=False)
    # When the error handler last reported to the admins (time.monotonic()).
    last_error_report: float = -math.inf
    # When the scheduler last finished a pass (time.monotonic()), for /healthz.
    last_reconcile: float = -math.inf
    # Prometheus counters, when `[metrics] port` is set (bot/ops/metrics.py).
    metrics: Metrics | None = None


Context: TypeAlias = CallbackContext[ExtBot[Any], dict[Any, Any], dict[Any, Any], BotData]
