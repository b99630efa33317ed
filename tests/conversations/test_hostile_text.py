"""Store data and arguments full of `<` and `&`: every message that shows them parses as Telegram HTML.

The sandbox parses every HTML text as Telegram does and answers 400 "can't parse entities" to an
unescaped `<` or `&`, which the harness turns into a failed test (a handler error). Names come back to
the user exactly as written.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from bot.domain.storedata import import_files
from tests.conftest import ADMIN_ID, SECRET
from tests.conversations.conftest import Harness, invitation

NAME = "<Tom & Jerry> <i>shampoo</i> &amp; more"
SKU = "HOSTILE-1"
LABELS = ["<b>Scent</b> & feel", "Foam <3", "A&B", "x < y > z", "&lt;lather&gt;"]


def hostile_files(folder: Path) -> list[Path]:
    factors = "".join(
        f'[[category.factor]]\nkey = "f{i}"\nlabel_en = "{label}"\nlabel_zh = "{label}"\n'
        f'question_en = "Is <it> & that {i}?"\nquestion_zh = "是否 <好> & {i}？"\n\n'
        for i, label in enumerate(LABELS))
    files = {
        "categories.toml": f'[[category]]\nkey = "hostile"\nname_en = "<H&M>"\nname_zh = "<H&M>"\n\n{factors}',
        "products.csv": f'sku,name,category,popularity,sales_volume\n{SKU},"{NAME}",hostile,5000,5000\n',
        "purchases.csv": "order_id,customer_id,sku,purchased_at,status\n"
                         f"H1,C0001,{SKU},2026-10-01T10:00:00Z,paid\n",
    }
    folder.mkdir(exist_ok=True)
    for name, text in files.items():
        (folder / name).write_text(text, encoding="utf-8")
    return [folder / name for name in files]


async def test_names_and_labels_with_markup_characters_reach_every_screen_as_written(
        h: Harness, tmp_path: Path) -> None:
    """Before: /round ID with `<` or `&` in a product name got 400 "can't parse entities"."""
    await import_files(h.rt.db, hostile_files(tmp_path / "hostile"), secret=SECRET)
    admin = h.admin
    buyer = await h.linked("C0001", "Buyer")
    await admin.send("/eligible")
    assert NAME in admin.last_message.text
    round_id = await h.open_round(SKU)
    await admin.send(f"/round {round_id}")
    assert NAME in admin.last_message.text and SKU in admin.last_message.text
    await admin.send("/rounds")
    assert f"#{round_id} {SKU}" in admin.last_message.text

    await invitation(buyer)
    assert NAME in buyer.last_message.text
    await buyer.tap("❤️ Rate now")
    screen = buyer.last_message
    for i, label in enumerate(LABELS):
        assert label in screen.text and f"Is <it> & that {i}?" in screen.text
        h.clock.advance(timedelta(seconds=5))
        await buyer.tap("4", message=screen)
    assert all(f"{label}: " in screen.text for label in LABELS)  # the summary
    await buyer.tap("✅ Submit", message=screen)
    assert "Thank you" in screen.text and NAME in screen.text
    await buyer.send("/myratings")
    assert NAME in buyer.last_message.text and LABELS[0] in buyer.last_message.text

    await admin.send(f"/closeround {round_id}")
    await buyer.wait_for(lambda u: "Results for" in u.last_message.text or "has closed" in u.last_message.text)
    assert NAME in buyer.last_message.text
    await admin.wait_for(lambda a: bool(h.channel_posts()))
    assert NAME in h.channel_posts()[-1]
    await admin.send(f"/export {round_id}")
    csv_message = admin.messages[-2]
    assert csv_message.caption is not None and "redheart score recomputes" in csv_message.caption
    assert "<code>" not in csv_message.caption  # before, the caption was sent without parse_mode: tags showed


async def test_arguments_with_markup_characters_come_back_escaped_in_errors(h: Harness) -> None:
    """Before: the duration error of `/newround SKU <b>` was sent unescaped and Telegram refused it."""
    admin = h.admin
    for sent, expected in {
        "/newround SHAMPOO-001 <b>": "'<b>' is not a duration",
        "/newround SHAMPOO-001 7d <i>": "'<i>' is not a number",
        "/newround <b>&amp;": "There is no product with SKU <b>&amp;.",
        "/round <3": "'<3' is not a number",
        "/exclude <b>A&B</b>": "There is no customer <b>A&B</b>.",
    }.items():
        await admin.send(sent)
        assert expected in admin.last_message.text, (sent, admin.last_message.text)
    assert all(c.params.get("parse_mode") in ("HTML", None) for c in h.sandbox.sent_to(ADMIN_ID))


async def test_the_longest_names_labels_and_questions_still_make_a_rating_screen_that_can_be_answered(
        h: Harness, tmp_path: Path) -> None:
    """300-character names, 200-character labels and 500-character questions, all `&` (five units once
    escaped): a factor screen would be ~5,000 units, a summary ~10,000 — over the limit, cut to fit."""
    folder = tmp_path / "longest"
    folder.mkdir()
    factors = "".join(f'[[category.factor]]\nkey = "f{i}"\nlabel_en = "{i}{"&" * 199}"\nlabel_zh = "{i}"\n'
                      f'question_en = "{"&" * 500}"\nquestion_zh = "?"\n\n' for i in range(10))
    (folder / "categories.toml").write_text(f'[[category]]\nkey = "big"\nname_en = "B"\nname_zh = "B"\n\n{factors}',
                                            encoding="utf-8")
    (folder / "products.csv").write_text(f"sku,name,category,popularity,sales_volume\nBIG-1,{'&' * 300},big,500,500\n",
                                         encoding="utf-8")
    (folder / "purchases.csv").write_text("order_id,customer_id,sku,purchased_at,status\n"
                                          "B1,C0001,BIG-1,2026-10-01T10:00:00Z,paid\n", encoding="utf-8")
    await import_files(h.rt.db, sorted(folder.iterdir()), secret=SECRET)
    buyer = await h.linked("C0001", "Buyer")
    await h.open_round("BIG-1")
    await invitation(buyer)
    await buyer.tap("❤️ Rate now")
    screen = buyer.last_message
    for _ in range(10):
        h.clock.advance(timedelta(seconds=5))
        await buyer.tap("3", message=screen)
    assert "✅ Submit" in screen.button_texts and len(screen.button_texts) == 11  # ten factors to change, submit
    await buyer.tap("✅ Submit", message=screen)
    assert "Thank you" in screen.text
    await buyer.send("/myratings")
    assert buyer.last_message.text.startswith("Your ratings:")
