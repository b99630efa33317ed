"""research rounds, their responses, candidate factors and versioned factor sets

A category's factors may now include research candidates (`factors.candidate`); which factors are rated
is the category's latest `factor_sets` version. Each existing category gets version 1: the factors it
has now, in their order. Invitations serve research rounds too (`research_round_id`), through the same
outbox; exactly one of `round_id` and `research_round_id` is set. Rounds record the version they rate.

Revision ID: 0005
Revises: 0006
Create Date: 2026-12-07
"""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0006"
branch_labels = None
depends_on = None

STATUSES = "status IN ('scheduled', 'open', 'closed', 'published', 'insufficient', 'cancelled')"
BALLOT_STATUSES = "status IN ('in_progress', 'submitted', 'withdrawn')"


def upgrade() -> None:
    op.create_table(
        "research_rounds",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("category_key", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("opens_at", sa.DateTime(), nullable=False),
        sa.Column("closes_at", sa.DateTime(), nullable=False),
        sa.Column("quota", sa.Integer(), nullable=False),
        sa.Column("min_responses", sa.Integer(), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("opened_at", sa.DateTime(), nullable=True),
        sa.Column("closed_at", sa.DateTime(), nullable=True),
        sa.Column("factor_set", sa.Integer(), nullable=True),
        sa.Column("design", sa.JSON(), nullable=True),
        sa.Column("eligibility", sa.JSON(), nullable=True),
        sa.Column("report", sa.JSON(), nullable=True),
        sa.Column("publish_claimed_at", sa.DateTime(), nullable=True),
        sa.Column("published_at", sa.DateTime(), nullable=True),
        sa.Column("publish_message_id", sa.BigInteger(), nullable=True),
        sa.Column("adopted_version", sa.Integer(), nullable=True),
        sa.CheckConstraint(STATUSES, name=op.f("ck_research_rounds_status")),
        sa.ForeignKeyConstraint(["category_key"], ["categories.key"],
                                name=op.f("fk_research_rounds_category_key_categories")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_research_rounds")),
    )
    op.create_index("ix_research_rounds_status_opens_at", "research_rounds", ["status", "opens_at"], unique=False)
    op.create_table(
        "research_responses",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("round_id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.String(length=64), nullable=True),
        sa.Column("rater", sa.String(length=32), nullable=False),
        sa.Column("respondent", sa.Integer(), nullable=False),
        sa.Column("sets", sa.JSON(), nullable=False),
        sa.Column("telegram_user_id", sa.BigInteger(), nullable=True),
        sa.Column("chat_id", sa.BigInteger(), nullable=True),
        sa.Column("message_id", sa.BigInteger(), nullable=True),
        sa.Column("step", sa.Integer(), nullable=False),
        sa.Column("rev", sa.Integer(), nullable=False),
        sa.Column("picks", sa.JSON(), nullable=False),
        sa.Column("submitted", sa.JSON(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("started_at", sa.DateTime(), nullable=False),
        sa.Column("submitted_at", sa.DateTime(), nullable=True),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("revisions", sa.Integer(), nullable=False),
        sa.Column("seconds", sa.Float(), nullable=True),
        sa.Column("excluded_by_admin", sa.Boolean(), nullable=True),
        sa.CheckConstraint(BALLOT_STATUSES, name=op.f("ck_research_responses_status")),
        sa.ForeignKeyConstraint(["customer_id"], ["customers.customer_id"],
                                name=op.f("fk_research_responses_customer_id_customers")),
        sa.ForeignKeyConstraint(["round_id"], ["research_rounds.id"], ondelete="CASCADE",
                                name=op.f("fk_research_responses_round_id_research_rounds")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_research_responses")),
        sa.UniqueConstraint("round_id", "customer_id", name=op.f("uq_research_responses_round_id")),
    )
    op.create_index(op.f("ix_research_responses_round_id"), "research_responses", ["round_id"], unique=False)
    op.create_table(
        "factor_sets",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("category_key", sa.String(length=64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("keys", sa.JSON(), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("research_round_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.CheckConstraint("source IN ('import', 'research')", name=op.f("ck_factor_sets_source")),
        sa.ForeignKeyConstraint(["category_key"], ["categories.key"], ondelete="CASCADE",
                                name=op.f("fk_factor_sets_category_key_categories")),
        sa.ForeignKeyConstraint(["research_round_id"], ["research_rounds.id"],
                                name=op.f("fk_factor_sets_research_round_id_research_rounds")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_factor_sets")),
        sa.UniqueConstraint("category_key", "version", name=op.f("uq_factor_sets_category_key")),
    )
    with op.batch_alter_table("factors", schema=None) as batch_op:
        batch_op.add_column(sa.Column("candidate", sa.Boolean(), server_default=sa.false(), nullable=False))
    with op.batch_alter_table("rounds", schema=None) as batch_op:
        batch_op.add_column(sa.Column("factor_set", sa.Integer(), nullable=True))
    with op.batch_alter_table("invitations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("research_round_id", sa.Integer(), nullable=True))
        batch_op.alter_column("round_id", existing_type=sa.Integer(), nullable=True)
        batch_op.create_foreign_key(op.f("fk_invitations_research_round_id_research_rounds"), "research_rounds",
                                    ["research_round_id"], ["id"], ondelete="CASCADE")
        batch_op.create_unique_constraint(op.f("uq_invitations_research_round_id"),
                                          ["research_round_id", "customer_id"])
        batch_op.create_check_constraint(op.f("ck_invitations_one_round"),
                                         sa.text("(round_id IS NULL) <> (research_round_id IS NULL)"))
    # Version 1 of every category already imported: the factors it rates today, in their order.
    conn = op.get_bind()
    keys: dict[str, list[str]] = {}
    for category, key in conn.execute(sa.text("SELECT category_key, key FROM factors ORDER BY category_key, position")):
        keys.setdefault(category, []).append(key)
    sets = sa.table("factor_sets", sa.column("category_key", sa.String), sa.column("version", sa.Integer),
                    sa.column("keys", sa.JSON), sa.column("source", sa.String),
                    sa.column("created_at", sa.DateTime), sa.column("created_by", sa.String))
    if keys:
        now = datetime.now(UTC).replace(tzinfo=None)  # stored as naive UTC, as every time column
        op.bulk_insert(sets, [{"category_key": c, "version": 1, "keys": k, "source": "import", "created_at": now,
                               "created_by": "migration 0005"} for c, k in keys.items()])
    conn.execute(sa.text("UPDATE rounds SET factor_set = 1"))


def downgrade() -> None:
    op.execute("DELETE FROM invitations WHERE research_round_id IS NOT NULL")
    with op.batch_alter_table("invitations", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_invitations_one_round"), type_="check")
        batch_op.drop_constraint(op.f("uq_invitations_research_round_id"), type_="unique")
        batch_op.drop_constraint(op.f("fk_invitations_research_round_id_research_rounds"), type_="foreignkey")
        batch_op.alter_column("round_id", existing_type=sa.Integer(), nullable=False)
        batch_op.drop_column("research_round_id")
    with op.batch_alter_table("rounds", schema=None) as batch_op:
        batch_op.drop_column("factor_set")
    with op.batch_alter_table("factors", schema=None) as batch_op:
        batch_op.drop_column("candidate")
    op.drop_table("factor_sets")
    op.drop_index(op.f("ix_research_responses_round_id"), table_name="research_responses")
    op.drop_table("research_responses")
    op.drop_index("ix_research_rounds_status_opens_at", table_name="research_rounds")
    op.drop_table("research_rounds")
