"""Browsing buttons and product deep links: every one we make reads back, nothing else does."""

from __future__ import annotations

import pytest

from bot.callbacks import Shelf, ShowcaseButton, decode
from bot.domain.showcase import product_payload, sku_from_payload


@pytest.mark.parametrize("button", [
    ShowcaseButton(Shelf.CATEGORIES), ShowcaseButton(Shelf.CATEGORY, 7, 3), ShowcaseButton(Shelf.SCORECARD, 2147483647),
    ShowcaseButton(Shelf.HISTORY, 1), ShowcaseButton(Shelf.RANKING, 12),
])
def test_every_browsing_button_reads_back_as_itself(button: ShowcaseButton) -> None:
    assert decode(button.encode()) == button


@pytest.mark.parametrize("data", ["s:r:0", "s:r:2147483648", "s:k:1", "s:t:shampoo", "s:c:1", "s:h:١", "s:x:1"])
def test_browsing_data_we_could_not_have_made_is_refused(data: str) -> None:
    assert decode(data) is None


@pytest.mark.parametrize("sku", ["SHAMPOO-001", "洗发水 1号", "a/b c", "x" * 62])
def test_a_product_link_names_its_sku_within_telegrams_payload_rules(sku: str) -> None:
    payload = product_payload(sku)
    assert payload is not None and len(payload) <= 64
    assert all(c.isascii() and (c.isalnum() or c in "_-") for c in payload)
    assert sku_from_payload(payload) == sku


def test_payloads_that_are_not_product_links_name_no_product() -> None:
    assert [sku_from_payload(p) for p in ("p_", "pb_!!", "hello", "p_" + "x" * 63)] == [None] * 4
