"""A round's submitted ballots read in bulk, for screening and scoring (closing, exports, the bench).

Read as plain rows rather than ORM entities: building 100,000 mapped `Ballot` objects (identity map,
attribute instrumentation) took ~4 s, more than screening and scoring them. Plain rows, one
`BallotRecord` each, with the collector paused (see `storage.heap.gc_paused`) keep it linear: ~9 µs a
ballot at any size.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime
from typing import Any, TypeVar

from sqlalchemy import DateTime, Select, Text, cast, func, select, type_coerce
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from bot.domain.offloop import off_loop
from scoring.model import BallotRecord
from storage.heap import gc_paused
from storage.models import Ballot, Customer
from storage.statuses import BallotStatus

T = TypeVar("T")

def _submitted(started_at: Any, submitted_at: Any, answers: Any) -> Select[Any]:
    return (
        select(Ballot.id, Ballot.rater, started_at, submitted_at, Ballot.owned_days,
               func.coalesce(Ballot.excluded_by_admin, Customer.excluded_by_admin), answers)
        .outerjoin(Customer, Customer.customer_id == Ballot.customer_id)
        .where(Ballot.status == BallotStatus.SUBMITTED, Ballot.submitted_at.is_not(None))
        .order_by(Ballot.id)
    )


_SUBMITTED = _submitted(Ballot.started_at, Ballot.submitted_at, Ballot.submitted)
# The same rows as the driver gives them — timestamps without their UTC zone, the answers as JSON text
# — for PostgreSQL, where every trip's rows are converted on the event loop: the columns' own
# conversions (SQLAlchemy's UTC timestamps, asyncpg's JSON codec) held it 27–46 ms at a time while a
# 100k round was read on the loaded VM. `_Undecoded` converts them on the worker thread instead.
_SUBMITTED_RAW = _submitted(type_coerce(Ballot.started_at, DateTime()), type_coerce(Ballot.submitted_at, DateTime()),
                            cast(Ballot.submitted, Text))

# Rows per trip of PostgreSQL's server-side cursor. asyncpg decodes the rows it receives on the event
# loop (~1.3 µs a row): one buffered fetch of 100,000 held the loop 0.1–0.15 s. 2,000 rows a trip hold
# it ~3 ms each, and the 50 trips add a few ms of round trips to a close.
FETCH_CHUNK = 2_000


def submitted_select(round_id: int) -> Select[Any]:
    """The query of `submitted_rows` (the bench's floor fetches exactly these rows)."""
    return _SUBMITTED.where(Ballot.round_id == round_id)


async def submitted_rows(s: AsyncSession | AsyncConnection, round_id: int) -> Iterable[Any]:
    """The round's submitted ballots as rows, for `as_records`.

    Read on the session's own connection (closing reads what its transaction just wrote) but through
    Core: an ORM session processes every row on the event loop, which held it for ~1 s at 100,000
    ballots. On PostgreSQL through a server-side cursor, `FETCH_CHUNK` rows at a time, so the loop
    serves taps between trips. On SQLite aiosqlite fetches on its own thread and SQLAlchemy converts
    each row (JSON, timestamps) only when it is iterated: the buffered result is handed over as is, so
    that conversion runs where `as_records` runs, off the loop."""
    conn = s if isinstance(s, AsyncConnection) else await s.connection()
    if conn.dialect.name != "postgresql":
        return await conn.execute(submitted_select(round_id))
    rows: list[Any] = []
    # The collector off while 100,000 rows pile up: its passes would walk all of them on the loop.
    with gc_paused():
        query = _SUBMITTED_RAW.where(Ballot.round_id == round_id)
        result = await conn.stream(query.execution_options(yield_per=FETCH_CHUNK))
        async for part in result.partitions():
            rows.extend(part)
            # A partition served from rows the cursor already holds comes back without a trip, and so
            # without letting the loop run: give it its turn between chunks.
            await asyncio.sleep(0)
    return _Undecoded(rows)


class _Undecoded:
    """PostgreSQL's raw rows (`_SUBMITTED_RAW`), converted as they are iterated — on the worker thread
    that builds from them — to what `submitted_select` gives. Iterated once: each chunk of raw rows is
    let go as soon as it is converted (see `kept_while`)."""

    def __init__(self, rows: list[Any]) -> None:
        self.rows = rows

    def __iter__(self) -> Iterator[tuple[Any, ...]]:
        rows, self.rows = self.rows, []
        while rows:
            chunk = rows[:FETCH_CHUNK]
            del rows[:FETCH_CHUNK]
            for ballot_id, rater, started_at, submitted_at, owned_days, excluded, answers in chunk:
                yield (ballot_id, rater, _utc(started_at), _utc(submitted_at), owned_days, excluded,
                       None if answers is None else json.loads(answers))


def _utc(t: datetime | None) -> datetime | None:
    """As the UTC column type reads a stored timestamp (`storage.models.UtcDateTime`)."""
    return None if t is None else t.replace(tzinfo=UTC)


def kept_while(rows: Iterable[Any], build: Callable[[list[Any]], T]) -> T:
    """`build(rows)`, the rows held until it returns, then let go a chunk at a time. Call it on the
    worker thread that builds from them.

    Freeing a round's rows and everything made from them at once is one uninterrupted cascade of
    deallocations that holds the interpreter, and so the event loop: 40–60 ms at 100,000 ballots on
    a quiet machine (120–230 ms on a loaded one), when the builder's per-ballot temporaries died on
    its return. Held here, those temporaries die without freeing what the rows still reference; the
    rows then go `FETCH_CHUNK` at a time (~1 ms each), and the interpreter can switch to the loop
    between chunks. A list is emptied in place: the caller's reference must not keep the rows alive."""
    with gc_paused():  # the collector's passes over 100,000 rows being built held the loop ~0.3 s each
        kept = rows if isinstance(rows, list) else list(rows)
        try:
            return build(kept)
        finally:
            while kept:
                del kept[-FETCH_CHUNK:]


def as_records(rows: Iterable[Any]) -> list[BallotRecord]:
    """Submitted ballots as the scoring library sees them: pseudonymous, 0 ("not sure") as None. Call
    it with the collector paused, on a worker thread for a big round (~0.5 s for 100,000)."""
    return [
        BallotRecord(ballot=str(ballot_id), rater=rater, started_at=started_at, submitted_at=submitted_at,
                     owned_days=owned_days, excluded_by_admin=bool(excluded),
                     answers={k: (v or None) for k, v in (answers or {}).items()})
        for ballot_id, rater, started_at, submitted_at, owned_days, excluded, answers in rows
    ]


async def submitted_records(s: AsyncSession | AsyncConnection, round_id: int) -> list[BallotRecord]:
    """`as_records` of `submitted_rows`, built off the event loop."""
    rows = await submitted_rows(s, round_id)

    def build() -> list[BallotRecord]:
        with gc_paused():
            return as_records(rows)

    return await off_loop(build)
