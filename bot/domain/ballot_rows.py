"""A round's submitted ballots read in bulk, for screening and scoring (closing, exports, the bench).

Read as plain rows rather than ORM entities: building 100,000 mapped `Ballot` objects (identity map,
attribute instrumentation) took ~4 s, more than screening and scoring them. Plain rows, one
`BallotRecord` each, with the collector paused (see `storage.heap.gc_paused`) keep it linear: ~9 µs a
ballot at any size.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from typing import Any

from sqlalchemy import Result, func, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from scoring.model import BallotRecord
from storage.heap import gc_paused
from storage.models import Ballot, Customer
from storage.statuses import BallotStatus

_SUBMITTED = (
    select(Ballot.id, Ballot.rater, Ballot.started_at, Ballot.submitted_at, Ballot.owned_days,
           func.coalesce(Ballot.excluded_by_admin, Customer.excluded_by_admin), Ballot.submitted)
    .outerjoin(Customer, Customer.customer_id == Ballot.customer_id)
    .where(Ballot.status == BallotStatus.SUBMITTED, Ballot.submitted_at.is_not(None))
    .order_by(Ballot.id)
)


async def submitted_rows(s: AsyncSession | AsyncConnection, round_id: int) -> Result[Any]:
    """The round's submitted ballots as buffered rows, for `as_records`.

    Read on the session's own connection (closing reads what its transaction just wrote) but through
    Core: an ORM session processes every row on the event loop, which held it for ~1 s at 100,000
    ballots."""
    conn = s if isinstance(s, AsyncConnection) else await s.connection()
    return await conn.execute(_SUBMITTED.where(Ballot.round_id == round_id))


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

    return await asyncio.to_thread(build)
