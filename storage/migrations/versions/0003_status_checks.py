"""status checks, and the ballots' unused verdict and reasons dropped

Every status column gets a CHECK constraint listing its Enum's values (storage.statuses), so a typo
in code fails at the write instead of leaving a row no query finds. `ballots.verdict` and
`ballots.reasons` were never written: a ballot's screening lives in its round's report.

On SQLite each table is rebuilt (batch mode); `storage.db.Database.migrate` turns foreign keys off
meanwhile, so rebuilding `rounds` cannot cascade into its ballots and invitations.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

# The values each column held when this migration was written: later Enum members come with their
# own migration, so this one never changes meaning.
CHECKS: dict[str, dict[str, tuple[str, ...]]] = {
    "rounds": {"status": ("scheduled", "open", "closed", "published", "insufficient", "cancelled")},
    "ballots": {"status": ("in_progress", "submitted", "withdrawn")},
    "invitations": {
        "status": ("pending", "sending", "sent", "unreachable", "failed", "unknown", "cancelled"),
        "reminder_status": ("none", "sending", "sent", "unreachable", "failed", "unknown"),
    },
    "purchases": {"status": ("paid", "refunded", "cancelled")},
    "account_links": {"method": ("token", "contact")},
}


def upgrade() -> None:
    for table, columns in CHECKS.items():
        with op.batch_alter_table(table, schema=None) as batch_op:
            for column, values in columns.items():
                allowed = ", ".join(f"'{v}'" for v in values)
                batch_op.create_check_constraint(op.f(f"ck_{table}_{column}"), sa.text(f"{column} IN ({allowed})"))
            if table == "ballots":
                batch_op.drop_column("verdict")
                batch_op.drop_column("reasons")


def downgrade() -> None:
    for table, columns in CHECKS.items():
        with op.batch_alter_table(table, schema=None) as batch_op:
            for column in columns:
                batch_op.drop_constraint(op.f(f"ck_{table}_{column}"), type_="check")
            if table == "ballots":
                batch_op.add_column(sa.Column("verdict", sa.String(length=16), nullable=True))
                batch_op.add_column(sa.Column("reasons", sa.String(length=200), nullable=True))
