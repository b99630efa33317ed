"""The public scorecard site (`redheart site --out DIR`): static HTML in both languages, `feed.json`,
and an embeddable badge per product.

No JavaScript and no server: plain files a store can host anywhere and a CDN can cache. Pages are
Jinja2 templates with autoescaping (a product named `<script>` is shown, never run), every word
from the catalogs (`site.*`). Only published scorecards appear — the same numbers, intervals and
minimums as in the channel — and nothing about who rated.
"""

from bot.site.build import SiteSummary, build_site

__all__ = ["SiteSummary", "build_site"]
