"""Admin commands about campaigns: /eligible lists products ranked against the eligibility thresholds."""

from __future__ import annotations

from telegram import Update

from bot.callbacks import ListKind
from bot.handlers.admin import admin_only
from bot.handlers.common import Context
from bot.handlers.lists import send_list


@admin_only
async def eligible(update: Update, context: Context) -> None:
    """Lists products by popularity and sales, marking which meet the thresholds and what the rest miss,
    a page at a time."""
    await send_list(update, context, ListKind.ELIGIBLE)
