"""What every service needs, built once per process: the database, the settings and the clock.

The domain reads only the `Settings` it declares; the program hands it the whole `bot.config.Config`,
so a `Runtime[Config]` is what the Telegram adapter and the CLI hold, and a plain `Runtime` (of
`Settings`) is what the rules of the round see.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Generic

from typing_extensions import TypeVar

from bot.domain.clock import Clock, SystemClock
from bot.domain.settings import Settings
from storage.db import Database

# Covariant, so a `Runtime[Config]` is a `Runtime` wherever the domain asks for one.
S = TypeVar("S", bound=Settings, covariant=True, default=Settings)


@dataclass(frozen=True)
class Runtime(Generic[S]):
    db: Database
    config: S
    clock: Clock = field(default_factory=SystemClock)
