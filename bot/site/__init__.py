"""The public scorecard site (`redheart site --out DIR`): static HTML in both languages, `feed.json`,
and an embeddable badge per product.

No JavaScript and no server: plain files a store can host anywhere and a CDN can cache. Pages are
Jinja2 templates with autoescaping (a product named `<script>` is shown, never run), every word
from the catalogs (`site.*`). Only published scorecards appear — the same numbers, intervals and
minimums as in the channel — and nothing about who rated.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bot.site.build import SiteSummary, build_site

__all__ = ["SiteSummary", "build_site"]


def __getattr__(name: str) -> Any:
    """`build_site` and `SiteSummary`, loaded on first use: the bot imports `bot.site.refresh` at
    start-up, and Jinja2 is needed only when a site is built."""
    if name in __all__:
        from bot.site import build

        return getattr(build, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
