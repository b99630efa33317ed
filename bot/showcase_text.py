"""What /scores, /top, /compare and inline mode show: texts and keyboards from `bot.domain.showcase`."""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.callbacks import Shelf, ShowcaseButton
from bot.domain import showcase
from bot.texts import Html, html_lines, t, t_plain
from scoring.ranking import Verdict
from scoring.trend import TrendPoint

#: Products per page when browsing a category: a phone shows about this many buttons without scrolling.
PAGE_SIZE = 8


def _button(text: str, shelf: Shelf, round_id: int = 0, page: int = 0) -> InlineKeyboardButton:
    return InlineKeyboardButton(text, callback_data=ShowcaseButton(shelf, round_id, page).encode())


def _score(card: showcase.Card) -> str:
    return "—" if card.overall is None else f"{card.overall.score:.2f}"


def categories_screen(shelves: list[showcase.CategoryShelf], lang: str) -> tuple[Html, InlineKeyboardMarkup | None]:
    if not shelves:
        return t(lang, "showcase.none"), None
    rows = [[_button(t_plain(lang, "showcase.category_button", category=s.name(lang), count=s.products),
                     Shelf.CATEGORY, s.any_round)] for s in shelves]
    return t(lang, "showcase.categories"), InlineKeyboardMarkup(rows)


def category_screen(cards: list[showcase.Card], page: int, lang: str) -> tuple[Html, InlineKeyboardMarkup]:
    """A page of a category's products (`cards`, at least one), with paging, its ranking and back."""
    anchor = cards[0].round_id
    pages = max(1, -(-len(cards) // PAGE_SIZE))
    page = min(page, pages - 1)
    shown = cards[page * PAGE_SIZE:(page + 1) * PAGE_SIZE]
    rows = [[_button(t_plain(lang, "showcase.product_button", product=c.product, score=_score(c)),
                     Shelf.SCORECARD, c.round_id)] for c in shown]
    paging = []
    if page > 0:
        paging.append(_button(t_plain(lang, "showcase.previous"), Shelf.CATEGORY, anchor, page - 1))
    if page < pages - 1:
        paging.append(_button(t_plain(lang, "showcase.next"), Shelf.CATEGORY, anchor, page + 1))
    if paging:
        rows.append(paging)
    rows.append([_button(t_plain(lang, "showcase.ranking_button"), Shelf.RANKING, anchor),
                 _button(t_plain(lang, "showcase.back"), Shelf.CATEGORIES)])
    return t(lang, "showcase.products", category=cards[0].category_name(lang)), InlineKeyboardMarkup(rows)


def scorecard_buttons(card: showcase.Card, rounds: int, lang: str) -> InlineKeyboardMarkup:
    """Under a scorecard photo: its history (two rounds or more), its category's ranking, back."""
    rows = []
    if rounds >= 2:
        rows.append([_button(t_plain(lang, "showcase.history_button", count=rounds), Shelf.HISTORY, card.round_id)])
    rows.append([_button(t_plain(lang, "showcase.ranking_button"), Shelf.RANKING, card.round_id),
                 _button(t_plain(lang, "showcase.back"), Shelf.CATEGORIES)])
    return InlineKeyboardMarkup(rows)


def trend_point(card: showcase.Card) -> TrendPoint | None:
    """The card's overall as a point of the product's trend; None when it has no score."""
    overall = card.overall
    if overall is None:
        return None
    return TrendPoint(card.published_at.strftime("%Y-%m-%d") if card.published_at else str(card.round_id),
                      overall.score, overall.ci)


def history_text(cards: list[showcase.Card], lang: str) -> Html:
    lines = [t(lang, "showcase.history", product=cards[-1].product)]
    for c in reversed(cards):
        overall = c.overall
        lines.append(t(lang, "showcase.history_line", date=c.published_at.strftime("%Y-%m-%d") if c.published_at
                       else "—", score="—" if overall is None else f"{overall.score:.2f}",
                       raters=(c.report.get("overall") or {}).get("n", 0)))
    latest = cards[-1]
    labels = [latest.factor_label(str(f["key"]), lang) for f in latest.report.get("factors", [])]
    lines.append(t(lang, "showcase.history_factors", factors=t_plain(lang, "scorecard.list_sep").join(labels)))
    return html_lines(lines)


def ranking_text(ranking: showcase.Ranking, category_name: str, factor_label: str | None, lang: str) -> Html:
    if not ranking.places:
        return t(lang, "top.empty", category=category_name)
    what = factor_label if factor_label is not None else t_plain(lang, "top.overall")
    lines = [t(lang, "top.header", category=category_name, what=what)]
    for place in ranking.places:
        card = ranking.cards[place.item.key]
        where = t_plain(lang, "top.tied", best=place.best, worst=place.worst) if place.tied else str(place.best)
        lines.append(t(lang, "top.line", place=where, product=card.product, score=f"{place.item.score:.2f}",
                       low=f"{place.item.ci[0]:.2f}", high=f"{place.item.ci[1]:.2f}"))
    if any(p.tied for p in ranking.places):
        lines.append(t(lang, "top.footnote"))
    if ranking.left_out:
        lines.append(t(lang, "top.left_out", count=ranking.left_out))
    return html_lines(lines)


_VERDICTS = {Verdict.HIGHER: "compare.first_better", Verdict.LOWER: "compare.second_better",
             Verdict.TIED: "compare.tied"}


def comparison_text(c: showcase.Comparison, lang: str) -> Html:
    lines = [t(lang, "compare.header", first=c.first.product, second=c.second.product)]
    if c.overall is not None and c.first.overall and c.second.overall:
        lines.append(t(lang, "compare.line", label=t_plain(lang, "compare.overall"),
                       a=f"{c.first.overall.score:.2f}", b=f"{c.second.overall.score:.2f}",
                       verdict=t_plain(lang, _VERDICTS[c.overall])))
    for key, a, b, verdict in c.factors:
        lines.append(t(lang, "compare.line", label=c.first.factor_label(key, lang), a=f"{a.score:.2f}",
                       b=f"{b.score:.2f}", verdict=t_plain(lang, _VERDICTS[verdict])))
    lines.append(t(lang, "compare.footnote"))
    return html_lines(lines)
