"""delivery steps: a scorecard's post and each thank-you record where their delivery stands

`rounds.publish_state` (none → claimed → sending → posted | in_doubt | failed) replaces the blind
claim: a post that may have reached the channel is never repeated without an admin's word, and
`publish_reported_at` says the admins were asked. `ballots.thanks_status` (none → claimed → sending
→ sent | unreachable | failed | unknown) makes the thank-yous an outbox: a claim is settled after the
send or handed back, never lost. Rows thanked before this migration count as sent.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

# The values each column held when this migration was written (see 0003).
PUBLISH_STATES = ("none", "claimed", "sending", "posted", "in_doubt", "failed")
THANKS_STATUSES = ("none", "claimed", "sending", "sent", "unreachable", "failed", "unknown")


def _check(column: str, values: tuple[str, ...]) -> sa.TextClause:
    return sa.text(f"{column} IN ({', '.join(repr(v) for v in values)})")


def upgrade() -> None:
    with op.batch_alter_table("rounds", schema=None) as batch_op:
        batch_op.add_column(sa.Column("publish_state", sa.String(length=16), server_default="none", nullable=False))
        batch_op.add_column(sa.Column("publish_reported_at", sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column("publish_error", sa.String(length=300), nullable=True))
        batch_op.create_check_constraint(op.f("ck_rounds_publish_state"), _check("publish_state", PUBLISH_STATES))
    with op.batch_alter_table("ballots", schema=None) as batch_op:
        batch_op.add_column(sa.Column("thanks_status", sa.String(length=16), server_default="none", nullable=False))
        batch_op.add_column(sa.Column("thanks_claimed_at", sa.DateTime(), nullable=True))
        batch_op.create_check_constraint(op.f("ck_ballots_thanks_status"), _check("thanks_status", THANKS_STATUSES))
    op.execute("UPDATE rounds SET publish_state = 'posted' WHERE status IN ('published', 'insufficient')")
    op.execute("UPDATE ballots SET thanks_status = 'sent' WHERE thanked_at IS NOT NULL")
    op.create_index("ix_ballots_thanks_status", "ballots", ["thanks_status", "id"])


def downgrade() -> None:
    op.drop_index("ix_ballots_thanks_status", table_name="ballots")
    with op.batch_alter_table("ballots", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_ballots_thanks_status"), type_="check")
        batch_op.drop_column("thanks_claimed_at")
        batch_op.drop_column("thanks_status")
    with op.batch_alter_table("rounds", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_rounds_publish_state"), type_="check")
        batch_op.drop_column("publish_error")
        batch_op.drop_column("publish_reported_at")
        batch_op.drop_column("publish_state")
