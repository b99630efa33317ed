"""Long lists a page at a time, every page measured to fit one Telegram message.

Telegram refuses a message over 4096 characters after parsing ("message is too long"): /myratings
failed at ~25 rated rounds (2 with long product names), /eligible at 40 long-named products. A list
is cut into pages by rendering it: each page is its header and as many items as fit, counted in UTF-16
units on the HTML as sent (escapes and tags only shrink when Telegram parses them, so what fits here
fits there). An item longer than a page on its own is shown cut short.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.callbacks import ListKind, PageButton
from bot.texts import Html, html_lines, t, t_plain

MESSAGE_LIMIT = 4096
# Room kept for the "page 2 of 5" line under each page.
FOOTER_ROOM = 64
# Even short items stop at this many a page: a screenful someone can read.
ITEMS_PER_PAGE = 30
_TAG = re.compile(r"<[^>]*>")


def utf16_len(text: str) -> int:
    """Length as Telegram counts it: UTF-16 code units (an emoji is two)."""
    return len(text.encode("utf-16-le")) // 2


def fit(text: str, limit: int = MESSAGE_LIMIT) -> Html:
    """HTML of at most `limit` units: `text` itself, or its words without markup, cut short ("…") and
    escaped again (a cut through markup could leave half a tag)."""
    if utf16_len(text) <= limit:
        return Html(text)
    plain = html.unescape(_TAG.sub("", text))

    def cut(size: int) -> str:
        return html.escape(plain[:size], quote=False) + "…"

    low, high = 0, min(len(plain), limit)  # cut(low) fits; find the longest cut that does
    while low < high:
        middle = (low + high + 1) // 2
        low, high = (middle, high) if utf16_len(cut(middle)) <= limit else (low, middle - 1)
    return Html(cut(low))


def paginate(header: Html, items: list[Html], limit: int = MESSAGE_LIMIT - FOOTER_ROOM) -> list[Html]:
    """The pages of a list: header, then items one per line, each page at most `limit` units."""
    room = limit - utf16_len(header) - 1
    pages: list[list[Html]] = [[]]
    used = 0
    for item in (fit(i, room) for i in items):
        size = utf16_len(item) + 1  # its line break
        if pages[-1] and (used + size > room or len(pages[-1]) >= ITEMS_PER_PAGE):
            pages.append([])
            used = 0
        pages[-1].append(item)
        used += size
    return [html_lines([header, *page]) for page in pages]


@dataclass(frozen=True)
class Page:
    """One page of a list as sent: its text (with the page line when there are several) and buttons."""

    text: Html
    markup: InlineKeyboardMarkup | None
    number: int


def page_of(kind: ListKind, pages: list[Html], wanted: int, lang: str) -> Page:
    """Page `wanted` (clamped to the pages there are now: the list may have shrunk) with prev/next."""
    number = max(0, min(wanted, len(pages) - 1))
    if len(pages) == 1:
        return Page(pages[0], None, 0)
    text = html_lines([pages[number], t(lang, "page.of", page=number + 1, pages=len(pages))], sep="\n\n")
    row = []
    if number > 0:
        row.append(InlineKeyboardButton(t_plain(lang, "page.prev"),
                                        callback_data=PageButton(kind, number - 1).encode()))
    if number < len(pages) - 1:
        row.append(InlineKeyboardButton(t_plain(lang, "page.next"),
                                        callback_data=PageButton(kind, number + 1).encode()))
    return Page(text, InlineKeyboardMarkup([row]), number)
