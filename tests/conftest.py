"""Shared fixtures: a real database (SQLite always, PostgreSQL when REDHEART_TEST_DATABASE_URL is set),
a controllable clock, and the real bot running against the Bot API sandbox."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from sqlalchemy.engine import make_url

from bot.config import BotConfig, Config, TelegramConfig
from bot.demo.sampledata import ANCHOR, write_sample_files
from bot.domain.clock import ManualClock
from bot.domain.runtime import Runtime
from bot.domain.settings import IdentityConfig, RoundsConfig, ScoringConfig
from bot.domain.storedata import import_files
from storage.db import Database

SECRET = "test-secret"
ADMIN_ID = 900001
CHANNEL = "@redheart_ratings"
PG_URL = os.environ.get("REDHEART_TEST_DATABASE_URL", "")


@pytest.fixture(params=["sqlite", "postgresql"])
async def db(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Database]:
    """A migrated, empty database of the test's own."""
    if request.param == "sqlite":
        database = await Database.open(f"sqlite:///{tmp_path}/test.db")
        yield database
        await database.close()
        return
    if not PG_URL:
        pytest.skip("REDHEART_TEST_DATABASE_URL is not set")
    # A database of the test's own, so tests never see each other's rows.
    url = make_url(PG_URL)
    name = f"rh_test_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(
        user=url.username, password=url.password, host=url.host, port=url.port or 5432, database="postgres"
    )
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
        database = await Database.open(url.set(database=name).render_as_string(hide_password=False))
        try:
            yield database
        finally:
            await database.close()
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


@pytest.fixture
def clock() -> ManualClock:
    """Test time starts the day the sample data is anchored to."""
    return ManualClock(ANCHOR + timedelta(hours=12))


def make_config(**changes: object) -> Config:
    base = Config(
        # Simulated users tap far faster than people; flood protection has its own test.
        bot=BotConfig(admins=(ADMIN_ID,), publish_chat_id=CHANNEL, default_language="en", flood_limit=10_000),
        identity=IdentityConfig(secret=SECRET),
        rounds=RoundsConfig(min_ballots=3, tick=timedelta(seconds=1)),
        scoring=ScoringConfig(min_factor_n=3),
    )
    return replace(base, **changes)  # type: ignore[arg-type]


@pytest.fixture
async def rt(db: Database, clock: ManualClock, tmp_path: Path) -> Runtime:
    """A runtime over the sample store data."""
    runtime = Runtime(db, make_config(), clock)
    await import_files(db, write_sample_files(tmp_path / "samples", anchor=ANCHOR), secret=SECRET)
    return runtime


class FakeTime:
    """A monotonic clock for code that takes one (`clock=`): it moves only when a test sets `now`."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def record_errors(app: Any, errors: list[BaseException]) -> None:
    """PTB hands a handler's or job's exception to every error handler: besides the bot's own (which
    apologises and reports), this one keeps it in `errors`, so a test fails on any."""

    async def record(_update: object, context: Any) -> None:
        errors.append(context.error)

    app.add_error_handler(record)


__all__ = ["ADMIN_ID", "CHANNEL", "SECRET", "FakeTime", "TelegramConfig", "make_config", "record_errors"]
