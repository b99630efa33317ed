"""The database keeps the invariants itself, and the migrations build exactly the models' schema."""

from __future__ import annotations

import re
import sqlite3
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text
from sqlalchemy.exc import IntegrityError

from bot.domain.runtime import Runtime
from storage import statuses
from storage.db import Database, alembic_config
from storage.models import AccountLink, Ballot, Base

STATUSES: dict[tuple[str, str], type[StrEnum]] = {
    ("rounds", "status"): statuses.RoundStatus,
    ("ballots", "status"): statuses.BallotStatus,
    ("invitations", "status"): statuses.InvitationStatus,
    ("invitations", "reminder_status"): statuses.ReminderStatus,
    ("rounds", "publish_state"): statuses.PublishState,
    ("ballots", "thanks_status"): statuses.ThanksStatus,
    ("purchases", "status"): statuses.PurchaseStatus,
    ("account_links", "method"): statuses.LinkMethod,
    ("research_rounds", "status"): statuses.RoundStatus,
    ("research_responses", "status"): statuses.BallotStatus,
    ("factor_sets", "source"): statuses.FactorSetSource,
}

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


async def test_every_status_column_admits_exactly_its_enums_values(db: Database) -> None:
    """Alembic compares no CHECK constraints, so this test does: the migrations' against the Enums."""

    def checks(sync: object) -> dict[tuple[str, str], set[str]]:
        inspector = inspect(sync)
        found = {}
        for table, column in STATUSES:
            for check in inspector.get_check_constraints(table):
                if check["name"] == f"ck_{table}_{column}":
                    found[table, column] = set(re.findall(r"'(\w+)'", check["sqltext"]))
        return found

    async with db.engine.connect() as conn:
        found = await conn.run_sync(checks)
    assert found == {key: {member.value for member in enum} for key, enum in STATUSES.items()}


async def test_the_database_refuses_a_status_no_code_knows(rt: Runtime) -> None:
    from bot.domain import rounds

    round_id = await rounds.schedule_round(rt, "SHAMPOO-001", actor="test")
    with pytest.raises(IntegrityError):
        async with rt.db.session() as s:
            await s.execute(text("UPDATE rounds SET status = 'opened' WHERE id = :id"), {"id": round_id})


async def test_upgrading_a_sqlite_database_keeps_the_ballots_and_invitations_of_its_rounds(tmp_path: Path) -> None:
    """Migration 0003 rebuilds `rounds` on SQLite; with foreign keys on, that cascaded into its rows."""
    url = f"sqlite:///{tmp_path}/old.db"
    old = await Database.open(url, migrate=False)
    async with old.engine.begin() as conn:
        await conn.run_sync(lambda sync: command.upgrade(alembic_config(sync), "0002"))
    await old.close()
    with sqlite3.connect(tmp_path / "old.db") as conn:
        conn.executescript("""
            INSERT INTO categories VALUES ('c', 'C', 'C');
            INSERT INTO products VALUES ('P', 'p', 'c', 1, 1);
            INSERT INTO customers VALUES ('C1', NULL, NULL, 0, 0, NULL);
            INSERT INTO rounds (id, sku, category_key, status, opens_at, closes_at, quota, min_ballots, forced,
                                created_by, created_at)
                VALUES (1, 'P', 'c', 'open', '2026-01-01', '2026-01-02', 1, 1, 0, 'x', '2026-01-01');
            INSERT INTO ballots (round_id, customer_id, rater, step, rev, answers, status, started_at, updated_at,
                                 revisions)
                VALUES (1, 'C1', 'r', 0, 1, '{}', 'in_progress', '2026-01-01', '2026-01-01', 0);
            INSERT INTO invitations (round_id, customer_id, telegram_user_id, status, attempts, reminder_status)
                VALUES (1, 'C1', 5, 'sent', 1, 'none');
        """)
    upgraded = await Database.open(url)
    try:
        async with upgraded.engine.connect() as conn:
            counts = [(await conn.execute(text(f"SELECT count(*) FROM {table}"))).scalar_one()
                      for table in ("rounds", "ballots", "invitations")]
            foreign_keys = (await conn.exec_driver_sql("PRAGMA foreign_keys")).scalar_one()
    finally:
        await upgraded.close()
    assert counts == [1, 1, 1] and foreign_keys == 1
