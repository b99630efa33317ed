"""`redheart site`: static pages in both languages, a feed and a badge per product, nothing personal."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from pathlib import Path

from bot.domain.runtime import Runtime
from bot.site import SiteSummary


class Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.links: list[str] = []
        self.lang: str | None = None
        self.images_without_alt = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "html":
            self.lang = a.get("lang")
        if tag in ("a", "link") and a.get("href") and not str(a["href"]).startswith("data:"):
            self.links.append(str(a["href"]))
        if tag == "img":
            self.links.append(str(a["src"]))
            self.images_without_alt += not a.get("alt")


def pages(out: Path) -> list[Path]:
    return sorted(out.rglob("*.html"))


def test_every_page_declares_its_language_and_every_link_and_image_resolves(site: SiteSummary) -> None:
    assert site.products == 3 and site.categories == 2
    for page in pages(site.out):
        parsed = Links()
        parsed.feed(page.read_text(encoding="utf-8"))
        assert parsed.lang in ("en", "zh-Hans"), page
        assert parsed.images_without_alt == 0, page
        for link in parsed.links:
            assert (page.parent / link).resolve().is_file(), (page, link)


def test_a_ranking_page_shows_products_whose_intervals_overlap_as_tied(site: SiteSummary) -> None:
    ranking = (site.out / "en" / "category" / "shampoo.html").read_text(encoding="utf-8")
    assert ranking.count("1–2 <span class=\"tie\">tied</span>") == 2
    assert "并列" in (site.out / "zh" / "category" / "shampoo.html").read_text(encoding="utf-8")


def test_a_product_page_shows_its_latest_scorecard_its_history_and_the_badge_snippet(site: SiteSummary) -> None:
    page = (site.out / "zh" / "product" / "SHAMPOO-001.html").read_text(encoding="utf-8")
    assert "Silkroot 控油去屑洗发水 400ml" in page
    assert page.count("<tr><td>20") == 2  # two published rounds in the history table
    assert "<polyline" in page  # the trend line, drawn for two rounds or more
    assert "&lt;img src=&#34;badge/SHAMPOO-001.svg&#34;" in page or "&lt;img src=\"badge/SHAMPOO-001.svg\"" in page
    badge = (site.out / "badge" / "SHAMPOO-001.svg").read_text(encoding="utf-8")
    assert re.search(r">\d\.\d\d<tspan", badge)


def test_the_feed_lists_every_product_with_its_latest_scorecard_and_names_no_rater(site: SiteSummary) -> None:
    feed = json.loads((site.out / "feed.json").read_text(encoding="utf-8"))
    assert sorted(p["sku"] for p in feed["products"]) == ["FACECREAM-001", "SHAMPOO-001", "SHAMPOO-002"]
    shampoo = next(p for p in feed["products"] if p["sku"] == "SHAMPOO-001")
    assert shampoo["rounds"] == 2 and shampoo["overall"]["score"] > 3.8  # the newer round, not the first (~3.5)
    everything = "".join(p.read_text(encoding="utf-8") for p in site.out.rglob("*") if p.is_file())
    # Per-ballot screening and rater pseudonyms (r0, r1… in these rounds) never leave the database.
    assert '"ballot"' not in everything and re.search(r"\br\d{1,3}\b", everything) is None


async def test_the_site_is_rebuilt_once_after_a_publication_when_configured(rt: Runtime, tmp_path: Path) -> None:
    from dataclasses import replace

    from bot.config import SiteConfig
    from bot.site.refresh import refresh_site
    from tests.showcase_data import SHAMPOO, publish

    configured = replace(rt, config=replace(rt.config, site=SiteConfig(out=str(tmp_path / "live"))))
    assert not await refresh_site(configured)  # nothing published yet
    await publish(rt, "SHAMPOO-001", dict.fromkeys(SHAMPOO, 4.0), closed=rt.clock.now())
    assert await refresh_site(configured)
    assert (tmp_path / "live" / "zh" / "product" / "SHAMPOO-001.html").is_file()
    assert not await refresh_site(configured)  # up to date: no rebuild on every tick
