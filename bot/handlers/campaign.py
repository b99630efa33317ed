"""Admin commands about campaigns: /eligible lists products ranked against the eligibility thresholds."""

from __future__ import annotations

from telegram import Update

from bot.domain.eligibility import rank_products
from bot.handlers.admin import admin_only
from bot.handlers.common import Context, language, reply, runtime
from bot.texts import products_why, t

# A Telegram message holds 4096 characters; forty lines of products stay well inside it.
MAX_LINES = 40


@admin_only
async def eligible(update: Update, context: Context) -> None:
    """Lists products by popularity and sales, marking which meet the thresholds and what the rest miss."""
    rt, lang = runtime(context), await language(update, context)
    rules = rt.config.eligibility
    ranked = await rank_products(rt.db, rules)
    lines = [t(lang, "products.header", min_popularity=rules.product_min_popularity,
               min_sales=rules.product_min_sales)]
    lines += [
        t(lang, "products.line", mark="✅" if p.eligible else "✗", sku=p.sku, name=p.name,
          popularity=p.popularity, sales=p.sales_volume, why=products_why(p.problems, lang))
        for p in ranked[:MAX_LINES]
    ]
    if not ranked:
        lines.append(t(lang, "products.none"))
    await reply(update, "\n".join(lines))

