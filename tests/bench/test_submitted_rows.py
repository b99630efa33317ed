"""Closing reads a round's ballots in chunks on PostgreSQL: the same rows as one plain fetch, in the
same order, whatever the chunk size; on SQLite the buffered rows as before. Whatever is built from
them, the rows are let go once it is built."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from bot.bench.fixtures import bench_config, seed_raters
from bot.bench.scoring import _synthetic_round
from bot.domain import ballot_rows
from bot.domain.ballot_rows import as_records, kept_while, submitted_rows, submitted_select
from bot.domain.clock import SystemClock
from bot.domain.runtime import Runtime
from storage.db import Database
from storage.models import RoundFactor


async def test_chunked_rows_are_the_plain_fetch_row_for_row_and_read_once(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ballot_rows, "FETCH_CHUNK", 4)  # 27 ballots: six full chunks and a partial one
    rt = Runtime(db, bench_config(str(db.engine.url)), SystemClock())
    like, _ = await seed_raters(rt, 1)
    async with db.session() as s:
        factors = list(await s.scalars(select(RoundFactor.key).where(RoundFactor.round_id == like)))
    rid = await _synthetic_round(rt, like, 27, factors)
    async with db.session() as s:
        plain = [tuple(r) for r in (await (await s.connection()).execute(submitted_select(rid))).all()]
        rows = await submitted_rows(s, rid)
        assert [tuple(r) for r in rows] == plain and len(plain) == 27
        held: list[list[object]] = []
        records = kept_while(await submitted_rows(s, rid), lambda kept: held.append(kept) or as_records(kept))
    assert [r.ballot for r in records] == [str(r[0]) for r in plain]
    assert held[0] == []  # every row let go once the records were built
