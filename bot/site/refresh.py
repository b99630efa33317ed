"""Keeping the site current: rebuilt after a publication when `[site] out` is set.

The scheduler asks every tick; the newest publication time the site was built from is kept beside it
(`.published-until`), so a restart, or a second process sharing the folder, rebuilds only when a
scorecard was published since — never on every tick, never missing one.
"""

from __future__ import annotations

import logging
from pathlib import Path

from sqlalchemy import func, select

from bot.config import Config
from bot.domain.runtime import Runtime
from storage.models import Round
from storage.statuses import RoundStatus

log = logging.getLogger(__name__)
MARKER = ".published-until"


async def refresh_site(rt: Runtime[Config]) -> bool:
    """Rebuilds the site when configured and out of date; True when it did."""
    out = rt.config.site.out
    if not out:
        return False
    async with rt.db.session() as s:
        newest = await s.scalar(select(func.max(Round.published_at)).where(Round.status == RoundStatus.PUBLISHED))
    if newest is None:
        return False
    marker = Path(out) / MARKER
    stamp = newest.isoformat()
    if marker.is_file() and marker.read_text(encoding="utf-8").strip() >= stamp:
        return False
    from bot.site import build_site  # Jinja2 loads only when there is a site to build

    summary = await build_site(rt, out, rt.config.site.base_url)
    marker.write_text(stamp, encoding="utf-8")
    log.info("site rebuilt in %s: %s products", summary.out, summary.products)
    return True
