"""The admin console in the chat: /exclude, /method, /export, document imports, and the audit log."""

from __future__ import annotations

import csv
import io
import json
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from bot import cli
from bot.domain import audit
from bot.sandbox import SimUser
from scoring.model import parse_method_document
from storage.models import Customer, Product
from tests.conversations.conftest import Harness, invitation, replies


async def a_round_rated_by(h: Harness, buyers: int) -> tuple[int, list[SimUser]]:
    """A round opened and rated by buyers C0001.. C000n, each having submitted; returns it and them."""
    users = [await h.linked(f"C{n:04d}", f"Buyer{n}") for n in range(1, buyers + 1)]
    round_id = await h.open_round()
    for user in users:
        await rate_and_submit(h, user)
    return round_id, users


async def rate_and_submit(h: Harness, user: SimUser, scores: str = "453425") -> None:
    await invitation(user)
    h.clock.advance(timedelta(seconds=60))
    await user.tap("❤️ Rate now")
    # The ballot's own message, edited in place: what the user taps even if another message arrives.
    screen = next(m for m in reversed(user.messages) if "1/6" in (m.text or ""))
    for score in scores:
        h.clock.advance(timedelta(seconds=5))
        await user.tap(score, message=screen)
    await user.tap("✅ Submit", message=screen)


async def test_every_console_command_from_a_non_admin_gets_the_unknown_command_answer(h: Harness) -> None:
    mallory = await h.linked("C0001", "Mallory")
    for command in ("/exclude C0002", "/method", "/export 1"):
        await mallory.send(command)
        assert "don't know that command" in mallory.last_message.text, command
    await mallory.send_document("products.csv", b"sku,name,category,popularity,sales_volume\nX1,x,shampoo,1,1\n")
    assert "don't know that command" in mallory.last_message.text
    async with h.rt.db.session() as s:
        assert await s.get(Product, "X1") is None
        assert not (await s.get(Customer, "C0002")).excluded_by_admin  # type: ignore[union-attr]
    assert await audit.entries(h.rt) == []


async def test_an_excluded_customer_is_screened_out_as_excluded_rater(h: Harness) -> None:
    round_id, _ = await a_round_rated_by(h, 4)
    admin = h.admin
    await replies(admin, {"/exclude C0004": "C0004 is excluded", "/exclude NOPE": "no customer NOPE",
                          "/exclude": "Usage: /exclude"})
    await admin.send(f"/closeround {round_id}")
    await admin.wait_for(lambda _: h.channel_posts() != [])
    report = (await _report(h, round_id))
    assert report["ballots"]["submitted"] == 4
    assert report["ballots"]["excluded"].get("excluded_rater") == 1
    assert report["ballots"]["accepted"] == 3
    [entry] = [e for e in await audit.entries(h.rt) if e.action == "customer.exclude" and e.result == "ok"]
    assert entry.actor == f"tg:{admin.id}" and entry.detail == "C0004"


async def _report(h: Harness, round_id: int) -> dict[str, object]:
    from bot.domain import rounds

    return await rounds.report(h.rt, round_id)  # type: ignore[return-value]


async def test_method_shows_the_version_its_parameters_and_a_plain_explanation(h: Harness) -> None:
    admin = h.admin
    await admin.send("/method")
    text = admin.last_message.text
    assert "rh-score/" in text and "min_ballots = 3" in text and "prior_weight = 3.0" in text
    assert "In plain words" in text and "Bayesian" in text and "weight between 0 and 1" in text
    assert "10% of the ballots can move it by at most 0.15 hearts" in text  # 0.1/0.9 × 2 × 0.66
    await admin.send("/language")
    await admin.tap("中文")
    await admin.send("/method")
    assert "评分方法" in admin.last_message.text and "贝叶斯平均" in admin.last_message.text
    assert "10% 的评分最多只能让总分变动 0.15 颗心" in admin.last_message.text


async def test_export_sends_the_csv_and_the_method_file_that_recompute_the_score(h: Harness) -> None:
    round_id, buyers = await a_round_rated_by(h, 3)
    admin = h.admin
    await admin.send(f"/export {round_id}")
    csv_message, method_message = admin.messages[-2:]
    assert csv_message.document is not None and method_message.document is not None
    assert csv_message.media is not None and csv_message.media.file_name == f"round-{round_id}.csv"
    rows = list(csv.DictReader(io.StringIO(csv_message.document.decode())))
    assert len(rows) == 3 and "customer_id" not in rows[0] and all(r["rater"].startswith("r") for r in rows)
    assert not any(b.first_name in csv_message.document.decode() for b in buyers)
    document = json.loads(method_message.document)
    parse_method_document(document)  # a valid method file
    assert document["round"]["round_id"] == round_id
    await admin.send("/export 999")
    assert "no round 999" in admin.last_message.text
    await admin.send("/export x")
    assert "Usage: /export" in admin.last_message.text
    actions = [(e.action, e.detail, e.result) for e in await audit.entries(h.rt) if e.action == "export"]
    assert actions[0] == ("export", str(round_id), "ok") and actions[1][2].startswith("error")


async def test_a_csv_sent_by_the_admin_is_imported_and_a_second_time_changes_nothing(h: Harness) -> None:
    admin = h.admin
    data = (b"sku,name,category,popularity,sales_volume\n"
            b"NEW-1,New shampoo,shampoo,500,400\nSHAMPOO-001,Silkroot renamed,shampoo,1840,5230\n")
    await admin.send_document("products.csv", data)
    assert "products.csv: products — 1 added, 1 updated" in admin.last_message.text
    await admin.send_document("products.csv", data)
    assert "0 added, 0 updated, 2 unchanged" in admin.last_message.text
    async with h.rt.db.session() as s:
        assert (await s.get(Product, "NEW-1")) is not None


async def test_a_document_with_a_bad_row_imports_nothing_and_lists_each_file_line_error(h: Harness) -> None:
    admin = h.admin
    data = (b"sku,name,category,popularity,sales_volume\n"
            b"BAD-1,Fine,shampoo,5,5\nBAD-2,Broken,shampoo,lots,5\nBAD-3,Nowhere,no_such_category,1,1\n")
    await admin.send_document("products.csv", data)
    text = admin.last_message.text
    assert "Nothing was imported" in text
    assert "products.csv:3:" in text and "products.csv:4:" in text
    async with h.rt.db.session() as s:
        assert (await s.scalars(select(Product.sku).where(Product.sku.like("BAD-%")))).all() == []
    [entry] = [e for e in await audit.entries(h.rt) if e.action == "import"]
    assert entry.detail == "products.csv" and entry.result.startswith("error")


async def test_the_cli_prints_the_audit_log_of_telegram_and_cli_actions_since_a_time(
    h: Harness, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    admin = h.admin
    await admin.send("/exclude C0003")
    products = tmp_path / "products.csv"
    products.write_text("sku,name,category,popularity,sales_volume\nCLI-1,x,shampoo,1,1\n")
    await cli.cmd_import(h.rt, cli.build_parser().parse_args(["import", str(products)]))
    entries = await audit.entries(h.rt)
    assert [(e.actor, e.action) for e in entries] == [(f"tg:{admin.id}", "customer.exclude"), ("cli", "import")]
    await cli.cmd_audit(h.rt, cli.build_parser().parse_args(["audit"]))
    out = capsys.readouterr().out
    assert f"tg:{admin.id}\tcustomer.exclude\tC0003\tok" in out
    assert "cli\timport" in out
    later = (entries[-1].at + timedelta(seconds=1)).isoformat()
    await cli.cmd_audit(h.rt, cli.build_parser().parse_args(["audit", "--since", later]))
    assert capsys.readouterr().out == ""
