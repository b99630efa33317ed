"""The database keeps the invariants itself, and the migrations build exactly the models' schema."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.exc import IntegrityError

from bot.domain.runtime import Runtime
from storage.db import Database
from storage.models import AccountLink, Ballot, Base

NOW = datetime(2026, 11, 1, tzinfo=UTC)


async def test_migrations_and_models_agree(db: Database) -> None:
    async with db.engine.connect() as conn:
        diff = await conn.run_sync(lambda sync: compare_metadata(MigrationContext.configure(sync), Base.metadata))
    assert diff == []


async def test_one_telegram_user_links_one_customer_and_one_customer_one_user(rt: Runtime) -> None:
    async with rt.db.session() as s:
        s.add(AccountLink(telegram_user_id=1, customer_id="C0001", method="token", linked_at=NOW))
    for row in (AccountLink(telegram_user_id=1, customer_id="C0002", method="token", linked_at=NOW),
                AccountLink(telegram_user_id=2, customer_id="C0001", method="token", linked_at=NOW)):
        with pytest.raises(IntegrityError):
            async with rt.db.session() as s:
                s.add(row)


async def test_the_database_refuses_a_second_ballot_for_the_same_round_and_customer(rt: Runtime) -> None:
    from bot.domain import rounds

    round_id = await rounds.schedule_round(rt, "SHAMPOO-001", actor="test")

    def ballot() -> Ballot:
        return Ballot(round_id=round_id, customer_id="C0001", rater="r1", status="in_progress", answers={},
                      started_at=NOW, updated_at=NOW)

    async with rt.db.session() as s:
        s.add(ballot())
    with pytest.raises(IntegrityError):
        async with rt.db.session() as s:
            s.add(ballot())
