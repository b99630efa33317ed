"""What every service needs, built once per process: the database, the config and the clock."""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.config import Config
from bot.domain.clock import Clock, SystemClock
from storage.db import Database


@dataclass
class Runtime:
    db: Database
    config: Config
    clock: Clock = field(default_factory=SystemClock)
