"""Every list the bot sends fits a message, a page at a time, and the pages together show all of it.

Before: /myratings failed with "message is too long" at ~25 rated rounds (at 2 with long names), and
/eligible with 40 long-named products (the sandbox refuses a text over 4096 UTF-16 units after parsing,
as Telegram does, and the harness fails the test on that handler error).
"""

from __future__ import annotations

import re
from pathlib import Path

from bot.callbacks import ListKind, PageButton
from bot.domain import ballots, rounds
from bot.domain.storedata import import_files
from bot.pages import MESSAGE_LIMIT, utf16_len
from bot.sandbox import SimUser
from bot.sandbox.models import StoredMessage
from tests.conftest import SECRET
from tests.conversations.conftest import Harness

# Product names are at most 300 characters; `&` is the worst case, five units once escaped.
LONG = "&<" * 140


def long_named_products(folder: Path, count: int, *, bought_by: str | None = None) -> list[Path]:
    folder.mkdir(exist_ok=True)
    products = folder / "products.csv"
    products.write_text("sku,name,category,popularity,sales_volume\n" + "".join(
        f'LONG-{i:03d},"P{i:03d} {LONG}",shampoo,5000,5000\n' for i in range(count)), encoding="utf-8")
    if bought_by is None:
        return [products]
    purchases = folder / "purchases.csv"
    purchases.write_text("order_id,customer_id,sku,purchased_at,status\n" + "".join(
        f"L{i:03d},{bought_by},LONG-{i:03d},2026-10-01T10:00:00Z,paid\n" for i in range(count)), encoding="utf-8")
    return [products, purchases]


def list_message(user: SimUser, header: str) -> StoredMessage:
    """The newest message showing the list (invitations may arrive in between)."""
    return next(m for m in reversed(user.messages) if header in (m.text or ""))


async def every_page(user: SimUser, header: str) -> list[str]:
    """The list's texts, from its first page through "Next ›" to the last; each fits a message."""
    message = list_message(user, header)
    pages = [message.text or ""]
    while "Next ›" in message.button_texts:
        await user.tap("Next ›", message=message)
        pages.append(message.text or "")
    for page in pages:
        assert 0 < utf16_len(page) <= MESSAGE_LIMIT
    return pages


def shown(pattern: str, pages: list[str]) -> list[str]:
    return [found for page in pages for found in re.findall(pattern, page)]


async def test_myratings_with_thirty_long_named_rounds_pages_through_all_of_them(h: Harness, tmp_path: Path) -> None:
    buyer = await h.linked("C0001", "Buyer")
    await import_files(h.rt.db, long_named_products(tmp_path / "data", 30, bought_by="C0001"), secret=SECRET)
    for i in range(30):
        round_id = await rounds.schedule_round(h.rt, f"LONG-{i:03d}", actor="test")
        await rounds.open_round(h.rt, round_id)
        await ballots.begin(h.rt, round_id, buyer.id)
    await buyer.send("/myratings")
    pages = await every_page(buyer, "Your ratings:")
    assert len(pages) > 1 and "Page 1 of" in pages[0]
    assert sorted(shown(r"P(\d{3}) ", pages)) == [f"{i:03d}" for i in range(30)]  # each once, none lost
    assert LONG in pages[0]  # a whole name, escaped on the way and shown as written

    message = list_message(buyer, "Your ratings:")
    await buyer.tap("‹ Previous", message=message)  # and back
    assert message.text == pages[-2]


async def test_eligible_with_forty_long_named_products_pages_and_only_admins_can_turn_them(
        h: Harness, tmp_path: Path) -> None:
    await import_files(h.rt.db, long_named_products(tmp_path / "data", 40), secret=SECRET)
    admin = h.admin
    await admin.send("/eligible")
    pages = await every_page(admin, "Products by popularity")
    skus = shown(r"(LONG-\d{3}) · ", pages)
    assert sorted(skus) == [f"LONG-{i:03d}" for i in range(40)] and len(pages) >= 10

    stranger = h.person("Stranger")
    await stranger.send("/help")
    await stranger.tap_data(PageButton(ListKind.ELIGIBLE, 1).encode())  # forged: the list is admins' only
    assert stranger.last_alert.text == "This button is not valid."
    assert "LONG-" not in (stranger.last_message.text or "")


async def test_rounds_page_and_a_page_past_the_end_shows_the_last_one(h: Harness) -> None:
    for _ in range(35):
        await rounds.schedule_round(h.rt, "SHAMPOO-001", actor="test")
    admin = h.admin
    await admin.send("/rounds")
    pages = await every_page(admin, "Rounds:")
    assert sorted(int(n) for n in shown(r"#(\d+) SHAMPOO-001", pages)) == list(range(1, 36))
    assert "Page 2 of 2" in pages[-1]
    await admin.tap_data(PageButton(ListKind.ROUNDS, 99).encode())  # e.g. the list shrank since
    assert admin.last_message.text == pages[-1]
