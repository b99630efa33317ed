"""scorecard photos: each published chart's Telegram file_id per language, for inline results and /scores

Revision ID: 0006
Revises: 0004
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "scorecard_photos",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("round_id", sa.Integer(), nullable=False),
        sa.Column("lang", sa.String(length=8), nullable=False),
        sa.Column("file_id", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(["round_id"], ["rounds.id"], name=op.f("fk_scorecard_photos_round_id_rounds"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_scorecard_photos")),
        sa.UniqueConstraint("round_id", "lang", name=op.f("uq_scorecard_photos_round_id")),
    )


def downgrade() -> None:
    op.drop_table("scorecard_photos")
