"""A round's submitted ballots read in bulk, for screening and scoring (closing, exports, the bench).

Read as plain rows rather than ORM entities: building 100,000 mapped `Ballot` objects (identity map,
attribute instrumentation) took ~4 s, more than screening and scoring them. Plain rows, one
`BallotRecord` each, with the collector paused (see `bot.heap.gc_paused`) keep it linear: ~9 µs a
ballot at any size.
"""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from bot.heap import gc_paused
from scoring.model import BallotRecord
from storage.models import Ballot, Customer

_SUBMITTED = (
    select(Ballot.id, Ballot.rater, Ballot.started_at, Ballot.submitted_at, Ballot.owned_days,
           func.coalesce(Ballot.excluded_by_admin, Customer.excluded_by_admin), Ballot.submitted)
    .outerjoin(Customer, Customer.customer_id == Ballot.customer_id)
    .where(Ballot.status == "submitted", Ballot.submitted_at.is_not(None))
    .order_by(Ballot.id)
)


async def submitted_records(s: AsyncSession | AsyncConnection, round_id: int) -> list[BallotRecord]:
    """Submitted ballots as the scoring library sees them: pseudonymous, 0 ("not sure") as None."""
    with gc_paused():
        rows = await s.execute(_SUBMITTED.where(Ballot.round_id == round_id))
        return [
            BallotRecord(ballot=str(ballot_id), rater=rater, started_at=started_at, submitted_at=submitted_at,
                         owned_days=owned_days, excluded_by_admin=bool(excluded),
                         answers={k: (v or None) for k, v in (answers or {}).items()})
            for ballot_id, rater, started_at, submitted_at, owned_days, excluded, answers in rows
        ]
