"""The SQL of a ballot's start and of a rating tap, built once at import.

Constructing these statements on every tap cost more than executing them: SQLAlchemy caches the
compiled SQL, not the construction of the statement nor the cache key it is looked up by. Each guards
itself — the database checks, under the row's lock, what the code read or remembered — so each may run
on its own, outside any transaction (`storage.db.Database.run(atomic=False)`, `Database.execute`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, SQLColumnExpression, bindparam, insert, select, update

from storage.models import AccountLink, Ballot, Invitation, Round, TelegramUser
from storage.statuses import BallotStatus, RoundStatus


# A tap's compare-and-set. The SET columns come from each execution's parameters; the WHERE
# parameters are named so they cannot collide. The guard is in the UPDATE on both paths: a read is its
# own snapshot (SQLite begins the transaction at the first write), so a round closed or a ballot
# withdrawn between the read and the write must still stop the write — the database checks it under
# the write lock.
#
# The guarantee against a close: a tap and a close serialise on the round's row, so a tap lands either
# wholly before the close (and is counted) or is refused as closed — never accepted after it. SQLite
# gets this from its single writer. PostgreSQL under READ COMMITTED did not: the close locks the round
# and then every ballot of it; a tap reading the round as open then waited on its ballot's row lock and,
# when the close committed, re-checked only the ballot row — not the round, read from the old snapshot
# — and was accepted after the scorecard had counted without it. So the round is read `FOR SHARE`
# here: it waits for the close's lock on the round row (taken first, by its UPDATE of the status), and
# a row lock re-reads the newest version of the row it waited for, which then says closed. The locks
# are taken in the close's order (round, then ballot), so the two cannot deadlock; still one statement.
def held_open(round_id: SQLColumnExpression[int], now: SQLColumnExpression[datetime]) -> ColumnElement[bool]:
    """The round is open at `now`, its row held `FOR SHARE` (PostgreSQL) until the commit."""
    return select(Round.id).where(Round.id == round_id, Round.status == RoundStatus.OPEN, Round.closes_at > now) \
        .with_for_update(read=True).exists()


CAS = update(Ballot).where(
    Ballot.id == bindparam("b_id"), Ballot.rev == bindparam("b_rev"),
    Ballot.telegram_user_id == bindparam("b_owner"), Ballot.status != BallotStatus.WITHDRAWN,
    held_open(Ballot.round_id, bindparam("b_now", type_=Round.__table__.c.closes_at.type)),
)


# The statements of a ballot's start: building them on every Rate now (a select of eleven columns over
# three joins, an INSERT … SELECT of thirteen values) cost ~1.5 ms of CPU, most of a start's 2 ms.
INVITED = (
    select(AccountLink.customer_id, Round.status, Round.closes_at, Invitation.id.label("invited"),
           Invitation.purchased_at, Ballot.id,
           Ballot.rev, Ballot.step, Ballot.answers, Ballot.submitted, Ballot.submitted_at, Ballot.revisions,
           TelegramUser.language)  # the /language choice, read along (`people.note_language`)
    .select_from(AccountLink)
    .outerjoin(TelegramUser, TelegramUser.user_id == AccountLink.telegram_user_id)
    .outerjoin(Round, Round.id == bindparam("round_id"))
    .outerjoin(Invitation, (Invitation.round_id == bindparam("round_id"))
               & (Invitation.customer_id == AccountLink.customer_id))
    .outerjoin(Ballot, (Ballot.round_id == bindparam("round_id")) & (Ballot.customer_id == AccountLink.customer_id))
    .where(AccountLink.telegram_user_id == bindparam("user_id"))
)
HELD_OPEN = held_open(bindparam("r_id", type_=Round.__table__.c.id.type),
                      bindparam("r_now", type_=Round.__table__.c.closes_at.type))
STARTED = ("round_id", "customer_id", "telegram_user_id", "chat_id", "rater", "step", "rev", "answers", "status",
           "started_at", "updated_at", "revisions")


def _start(columns: tuple[str, ...]) -> Any:
    """INSERT … SELECT of a new ballot's `columns` (from the parameters of the same names), if the
    round is still open."""
    row = select(*(bindparam(c, type_=Ballot.__table__.c[c].type) for c in columns)).where(HELD_OPEN)
    return insert(Ballot).from_select(list(columns), row).returning(Ballot.id)


START = {False: _start(STARTED), True: _start((*STARTED, "message_id"))}  # shown on a known message?
# A resumed ballot: the SET columns come from each execution's parameters, as in `CAS`.
RESUME = update(Ballot).where(Ballot.id == bindparam("b_id"), Ballot.rev == bindparam("b_rev"), HELD_OPEN)
BOUGHT = select(Invitation.purchased_at).join(
    Ballot, (Ballot.round_id == Invitation.round_id) & (Ballot.customer_id == Invitation.customer_id)
).where(Ballot.id == bindparam("b_id"))
