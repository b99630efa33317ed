"""Reads what shoppers may see (`bot.domain.showcase`) and writes the site's files."""

from __future__ import annotations

import asyncio
import json
import re
import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape

from bot.domain import showcase
from bot.domain.runtime import Runtime
from bot.domain.settings import LANGUAGES
from bot.texts import t_plain
from scoring.ranking import Place

_SAFE = re.compile(r"[^A-Za-z0-9._-]")


def slug(sku: str) -> str:
    """A file name for a SKU: itself when it is already safe, else a readable form plus a short checksum,
    so two SKUs never share a page."""
    cleaned = _SAFE.sub("_", sku)
    return cleaned if cleaned == sku else f"{cleaned}-{zlib.crc32(sku.encode()):08x}"


@dataclass(frozen=True)
class SiteSummary:
    out: Path
    products: int
    categories: int
    files: int


@dataclass(frozen=True)
class ProductPage:
    latest: showcase.Card
    history: list[showcase.Card]


@dataclass(frozen=True)
class SiteData:
    shelves: list[showcase.CategoryShelf]
    rankings: dict[str, showcase.Ranking]
    products: dict[str, ProductPage]


async def build_site(rt: Runtime, out: Path | str, base_url: str = "") -> SiteSummary:
    """Writes the whole site under `out` (created if needed); files of products no longer published
    are left alone, every page that exists is rewritten."""
    shelves = await showcase.categories(rt)
    rankings = {shelf.key: await showcase.ranking(rt, shelf.key) for shelf in shelves}
    products = {}
    for card in await showcase.latest(rt):
        products[card.sku] = ProductPage(card, await showcase.history(rt, card.sku))
    data = SiteData(shelves, rankings, products)
    return await asyncio.to_thread(_write, data, Path(out), rt.clock.now(), base_url)


def _environment(lang: str, base_url: str) -> Environment:
    env = Environment(loader=PackageLoader("bot.site", "templates"), autoescape=select_autoescape(default=True),
                      trim_blocks=True, lstrip_blocks=True)
    env.globals["say"] = lambda key, **params: t_plain(lang, f"site.{key}", **params)
    env.globals["lang"] = lang
    env.globals["base"] = base_url.rstrip("/") + "/" if base_url else ""
    env.globals["other"] = next(code for code in LANGUAGES if code != lang)
    env.filters["num"] = lambda x: "—" if x is None else f"{x:.2f}"
    env.filters["slug"] = slug
    env.filters["day"] = lambda d: "—" if d is None else d.strftime("%Y-%m-%d")
    return env


def _write(data: SiteData, out: Path, now: datetime, base_url: str) -> SiteSummary:
    files: list[Path] = []

    def put(path: Path, text: str) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        files.append(path)

    base = _environment("en", base_url)
    put(out / "style.css", (Path(__file__).parent / "templates" / "style.css").read_text(encoding="utf-8"))
    put(out / "index.html", base.get_template("languages.html").render(built=now))
    for lang in LANGUAGES:
        env = _environment(lang, base_url)
        root = out / lang
        put(root / "index.html", env.get_template("index.html").render(
            shelves=data.shelves, rankings=data.rankings, products=data.products, depth=1))
        put(root / "method.html", env.get_template("method.html").render(depth=1))
        for key, ranking in data.rankings.items():
            shelf = next(s for s in data.shelves if s.key == key)
            put(root / "category" / f"{slug(key)}.html", env.get_template("category.html").render(
                shelf=shelf, ranking=ranking, rows=_ranking_rows(ranking), depth=2))
        for sku, page in data.products.items():
            put(root / "product" / f"{slug(sku)}.html", env.get_template("product.html").render(
                page=page, card=page.latest, factors=_factor_rows(page.latest, lang),
                trend=_trend(page.history), depth=2))
    for sku, page in data.products.items():
        badge = base.get_template("badge.svg").render(card=page.latest, score=_overall(page.latest.report))
        put(out / "badge" / f"{slug(sku)}.svg", badge)
    put(out / "feed.json", json.dumps(_feed(data, now), ensure_ascii=False, indent=1))
    return SiteSummary(out, len(data.products), len(data.shelves), len(files))


def _overall(report: Mapping[str, Any]) -> float | None:
    score = (report.get("overall") or {}).get("score")
    return None if score is None else float(score)


def _ranking_rows(ranking: showcase.Ranking) -> list[tuple[Place, showcase.Card]]:
    return [(place, ranking.cards[place.item.key]) for place in ranking.places]


def _factor_rows(card: showcase.Card, lang: str) -> list[dict[str, Any]]:
    """Each factor as the product page's table shows it, with the share of 4–5 hearts buyers gave."""
    rows = []
    for f in card.report.get("factors", []):
        dist = f.get("distribution")
        n = int(f.get("n") or 0)
        share = None if not dist or n == 0 else (dist[3] + dist[4]) / n
        rows.append({"label": card.factor_label(str(f["key"]), lang), "score": f.get("score"), "ci": f.get("ci"),
                     "n": n, "share": share})
    return rows


def _trend(history: list[showcase.Card]) -> dict[str, Any] | None:
    """Points of an inline SVG trend line (overall per round), when there are two rounds or more."""
    points = [(c, _overall(c.report)) for c in history]
    scored = [(c, s) for c, s in points if s is not None]
    if len(scored) < 2:
        return None
    width, height, pad = 320, 120, 20
    step = (width - 2 * pad) / (len(scored) - 1)

    def y_of(score: float) -> float:  # the whole 1–5 scale, so a small change never looks like a cliff
        return pad + (5 - score) / 4 * (height - 2 * pad)

    coords = [(pad + i * step, y_of(s)) for i, (_, s) in enumerate(scored)]
    return {"width": width, "height": height, "points": " ".join(f"{x:.1f},{y:.1f}" for x, y in coords),
            "dots": [(x, y, c, s) for (x, y), (c, s) in zip(coords, scored, strict=True)],
            "grid": [(y_of(level), str(level)) for level in (1, 3, 5)]}


def _feed(data: SiteData, now: datetime) -> dict[str, Any]:
    """The machine-readable feed: every product's latest published scorecard, in the report's own terms."""
    items = []
    for sku, page in sorted(data.products.items()):
        report = page.latest.report
        items.append({
            "sku": sku, "name": page.latest.product, "category": page.latest.category,
            "round_id": page.latest.round_id,
            "published_at": page.latest.published_at.isoformat() if page.latest.published_at else None,
            "overall": report.get("overall"), "ballots": {"accepted": (report.get("ballots") or {}).get("accepted")},
            "factors": [{k: f.get(k) for k in ("key", "label_en", "label_zh", "n", "score", "ci")}
                        for f in report.get("factors", [])],
            "method": report.get("method"), "rounds": len(page.history),
            "pages": {lang: f"{lang}/product/{slug(sku)}.html" for lang in LANGUAGES},
            "badge": f"badge/{slug(sku)}.svg",
        })
    return {"generated_at": now.isoformat(), "products": items}
