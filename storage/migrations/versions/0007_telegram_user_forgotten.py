"""telegram users remember that they asked to be forgotten

After /forgetme the account link is gone, so nothing said the Telegram user had ever been linked:
/rate asked them to link, which they never can again. `telegram_users.forgotten_at` is the one fact
kept, so the bot can tell them the truth.

Revision ID: 0007
Revises: 0005
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import storage.models

revision = "0007"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("telegram_users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("forgotten_at", storage.models.UtcDateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("telegram_users", schema=None) as batch_op:
        batch_op.drop_column("forgotten_at")
