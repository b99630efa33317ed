"""A document bigger than `bot.max_import_size` is refused before it is downloaded, in the admin's
language, and imports nothing."""

from __future__ import annotations

import pytest

from bot.config import ByteSize, ConfigError, parse_config
from storage.models import Product
from tests.conversations.conftest import Harness

HEADER = b"sku,name,category,popularity,sales_volume\n"


async def test_a_document_over_the_limit_is_refused_unread_and_imports_nothing(h: Harness) -> None:
    admin = h.admin
    row = b"BIG-1,big,shampoo,1,1\n"
    await admin.send_document("products.csv", HEADER + row + b"#" * (5 * 1024 * 1024))
    assert admin.last_message.text == (
        "products.csv is larger than 5 MB, the most this bot takes in the chat (bot.max_import_size). "
        "Use redheart import on the server.")
    async with h.rt.db.session() as s:
        assert await s.get(Product, "BIG-1") is None
    await admin.send_document("products.csv", HEADER + row)  # under the limit: imported
    assert "1 added" in admin.last_message.text


def test_the_import_limit_is_read_from_the_config_in_kb_or_mb() -> None:
    assert parse_config({"bot": {"max_import_size": "512KB"}}).bot.max_import_size == 512 * 1024
    assert parse_config({"bot": {"max_import_size": "2 mb"}}).bot.max_import_size == 2 * 1024 * 1024
    assert parse_config({}).bot.max_import_size == 5 * 1024 * 1024
    assert str(ByteSize(5 * 1024 * 1024)) == "5 MB" and str(ByteSize(1000)) == "1000 bytes"
    for bad in ("5 parsecs", "-1MB", True, "", "9999999GB", "0MB", 0, -5):
        with pytest.raises(ConfigError, match=r"bot\.max_import_size"):
            parse_config({"bot": {"max_import_size": bad}})
