"""Ready for a Chinese store (#13): the menu the real start-up sets, local phone numbers, the store's
clock, undoing /stop, and small truths, through the sandbox over HTTP, in both languages."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from bot.domain import identity, rounds
from bot.domain.storedata import import_files
from bot.sandbox import MenuCommand, SimUser
from storage.models import Customer
from tests.conftest import SECRET
from tests.conversations.conftest import Harness, invitation

BUYER_MENU = ["start", "rate", "myratings", "scores", "top", "compare", "language", "stop", "forgetme", "help"]
ADMIN_MENU = [*BUYER_MENU, "newround", "rounds", "round", "closeround", "cancelround", "eligible", "exclude",
              "method", "export", "newresearch", "adopt"]


def commands(menu: list[MenuCommand]) -> list[str]:
    return [entry.command for entry in menu]


async def test_the_real_start_up_sets_each_languages_menu_the_admins_menu_and_the_descriptions(h: Harness) -> None:
    # The harness starts the bot with bot.runner.running, the very code `redheart run` (runner.serve) uses.
    admin = h.admin  # the admin has a chat with the bot before this start-up
    await h.restart()
    li, alice, pierre = h.person("李", "zh"), h.person("Alice", "en"), h.person("Pierre", "fr")

    assert commands(h.sandbox.menu_for(li)) == BUYER_MENU
    assert h.sandbox.menu_for(li)[1] == MenuCommand("rate", "给商品打分")
    assert h.sandbox.menu_for(alice)[1] == MenuCommand("rate", "Rate a product")
    # A language we do not speak gets the configured default language's list (English in the tests).
    assert h.sandbox.menu_for(pierre) == h.sandbox.menu_for(alice)
    assert commands(h.sandbox.menu_for(admin)) == ADMIN_MENU
    assert h.sandbox.menu_for(admin)[-5] == MenuCommand("exclude", "Admin: exclude a customer")
    assert commands(h.sandbox.commands("chat", "zh", chat=admin.id)) == ADMIN_MENU

    assert "真实买家" in h.sandbox.description("zh") and "verified buyers" in h.sandbox.description("en")
    assert h.sandbox.description("") == h.sandbox.description("en")
    assert h.sandbox.short_description("zh") == "真实买家的真心评分，一人一票。"
    assert "one buyer, one vote" in h.sandbox.short_description("en")


async def test_an_admin_who_first_writes_after_start_up_gets_the_admin_menu_with_start(h: Harness) -> None:
    # At start-up the admin had never opened the chat, so Telegram refused their list ("chat not found").
    admin = h.admin
    assert commands(h.sandbox.menu_for(admin)) == BUYER_MENU
    await admin.send("/start")
    assert commands(h.sandbox.menu_for(admin)) == ADMIN_MENU


@pytest.fixture
async def local_phones(h: Harness, tmp_path: Path) -> None:
    """Two customers written the way a Chinese store writes numbers: local, and spaced international."""
    customers = tmp_path / "customers.csv"
    customers.write_text("customer_id,phone,last_active_at\nC9001,13800138000,\nC9002,+86 139 0013 9000,\n",
                         encoding="utf-8")
    await import_files(h.rt.db, [customers], secret=SECRET, region=h.rt.config.identity.default_region)


@pytest.mark.parametrize(("language", "linked"), [("zh", "关联成功"), ("en", "Linked")])
async def test_a_local_format_chinese_phone_links_by_shared_contact(
    h: Harness, local_phones: None, language: str, linked: str
) -> None:
    # Telegram sends a contact's number as international digits without "+".
    buyer = h.person("买家", language)
    await buyer.share_contact("8613800138000")
    assert linked in buyer.last_message.text
    other = h.person("Other", language)
    await other.share_contact("+8613900139000")
    assert linked in other.last_message.text
    assert await identity.linked_customer(h.rt, buyer.id) == "C9001"
    assert await identity.linked_customer(h.rt, other.id) == "C9002"


@pytest.mark.parametrize(("language", "closes", "bought"), [("zh", "11月8日 20:00", "2026年"),
                                                           ("en", "8 Nov, 20:00", " 2026")])
async def test_buyers_read_every_date_in_the_stores_time_zone_and_their_language(
    h: Harness, language: str, closes: str, bought: str
) -> None:
    # Test time is 1 Nov 2026 12:00 UTC; a 7-day round closes 8 Nov 12:00 UTC, 20:00 in Beijing.
    buyer = await h.linked("C0001", "Buyer", language)
    await h.open_round()
    await invitation(buyer)
    text = buyer.last_message.text
    assert closes in text and bought in text and "UTC" not in text
    await buyer.tap(buyer.last_message.buttons[1][0].text)  # "not now"
    assert closes in buyer.last_message.text
    await buyer.send("/rate")
    for score in "453425":
        await buyer.tap(score)
    await buyer.tap(buyer.last_message.buttons[-1][0].text)  # submit
    assert closes in buyer.last_message.text and "UTC" not in buyer.last_message.text


async def test_the_admin_reads_round_times_in_the_stores_zone_in_chinese_too(h: Harness) -> None:
    admin = h.admin
    await admin.send("/newround SHAMPOO-001 7d")
    assert "opens 1 Nov, 20:00, closes 8 Nov, 20:00" in admin.last_message.text
    await admin.send("/language")
    await admin.tap("中文")
    await admin.send("/rounds")
    assert "11月8日 20:00 截止" in admin.last_message.text


async def opted_out(h: Harness, customer_id: str) -> bool:
    async with h.rt.db.session() as s:
        return bool(await s.scalar(select(Customer.opted_out).where(Customer.customer_id == customer_id)))


@pytest.mark.parametrize(("language", "stopped", "resumed", "on"), [
    ("zh", "发送 /start 即可恢复邀请", "评分邀请已重新开启", "评分邀请已开启"),
    ("en", "Send /start and invitations are back on", "Invitations are on again", "invitations are on"),
])
async def test_stop_says_how_to_undo_it_and_start_resumes_invitations_and_tells_the_truth(
    h: Harness, language: str, stopped: str, resumed: str, on: str
) -> None:
    buyer = await h.linked("C0001", "Buyer", language)
    await buyer.send("/stop")
    assert stopped in buyer.last_message.text
    assert await opted_out(h, "C0001")
    await buyer.send("/start")
    assert resumed in buyer.last_message.text
    assert not await opted_out(h, "C0001")
    await buyer.send("/start")
    assert on in buyer.last_message.text and resumed not in buyer.last_message.text
    await h.open_round()
    await invitation(buyer)


@pytest.mark.parametrize(("language", "paused"), [("zh", "店铺目前暂不向您发送评分邀请"),
                                                 ("en", "this store isn't sending you rating invitations")])
async def test_start_does_not_promise_invitations_to_a_buyer_an_admin_excluded(
    h: Harness, language: str, paused: str
) -> None:
    buyer = await h.linked("C0001", "Buyer", language)
    await h.admin.send("/exclude C0001")
    await buyer.send("/start")
    assert paused in buyer.last_message.text


async def test_a_stopped_buyer_who_opens_a_new_link_is_told_invitations_are_back(h: Harness) -> None:
    buyer = await h.linked("C0001", "Buyer")
    await buyer.send("/stop")
    await buyer.send(f"/start {await identity.issue_link_token(h.rt, 'C0001')}")
    assert "Invitations are on again" in buyer.last_message.text
    assert not await opted_out(h, "C0001")


async def test_stop_inviting_me_on_an_invitation_says_how_to_undo_it(h: Harness) -> None:
    buyer = await h.linked("C0001", "Buyer")
    await h.open_round()
    await invitation(buyer)
    await buyer.tap("Stop inviting me")
    assert "Send /start and invitations are back on" in buyer.last_message.text
    assert await opted_out(h, "C0001")


@pytest.mark.parametrize(("language", "yours", "used"), [("zh", "您已通过这个链接完成关联", "该链接已被使用"),
                                                        ("en", "You're already linked", "already been used")])
async def test_opening_your_own_used_link_says_you_are_linked_and_someone_elses_says_used(
    h: Harness, language: str, yours: str, used: str
) -> None:
    token = await identity.issue_link_token(h.rt, "C0001")
    buyer = h.person("Buyer", language)
    await buyer.send(f"/start {token}")
    await buyer.send(f"/start {token}")
    assert yours in buyer.last_message.text
    stranger = h.person("Stranger", language)
    await stranger.send(f"/start {token}")
    assert used in stranger.last_message.text and yours not in stranger.last_message.text


@pytest.mark.parametrize(("language", "confirm", "forgotten"), [
    ("zh", "🗑 确认删除我的数据", "您已通过 /forgetme 删除个人数据"),
    ("en", "🗑 Yes, delete my data", "You deleted your data with /forgetme"),
])
async def test_after_forgetme_rate_stop_and_start_say_so_instead_of_asking_to_link(
    h: Harness, language: str, confirm: str, forgotten: str
) -> None:
    buyer = await h.linked("C0001", "Buyer", language)
    await buyer.send("/forgetme")
    await buyer.tap(confirm)
    for command in ("/rate", "/myratings", "/stop", "/start"):
        await buyer.send(command)
        assert forgotten in buyer.last_message.text, command
        assert "/start 并分享" not in buyer.last_message.text and "share your phone" not in buyer.last_message.text


async def test_a_contact_linked_buyer_who_forgets_is_told_so_until_they_link_another_customer(
    h: Harness, local_phones: None
) -> None:
    buyer = h.person("Buyer")
    await buyer.share_contact("8613800138000")  # linked without ever sending /start
    await buyer.send("/forgetme")
    await buyer.tap("🗑 Yes, delete my data")
    await buyer.send("/rate")
    assert "You deleted your data with /forgetme" in buyer.last_message.text
    # Their household's other customer account is theirs to link: then they are simply linked.
    await buyer.send(f"/start {await identity.issue_link_token(h.rt, 'C9002')}")
    assert "Linked" in buyer.last_message.text
    await buyer.send("/rate")
    assert "Nothing to rate right now" in buyer.last_message.text


async def rate_halfway(buyer: SimUser) -> None:
    await invitation(buyer)
    await buyer.tap(buyer.last_message.button_texts[0])  # rate now
    await buyer.tap("4")
    await buyer.tap("5")


@pytest.mark.parametrize(("language", "question"), [("zh", "第 3/6 题"), ("en", "3/6")])
async def test_rate_moves_the_ballot_to_a_new_message_and_the_old_one_loses_its_buttons(
    h: Harness, language: str, question: str
) -> None:
    buyer = await h.linked("C0001", "Buyer", language)
    await h.open_round()
    await rate_halfway(buyer)
    old = buyer.last_message
    await buyer.send("/rate")
    assert question in buyer.last_message.text and buyer.last_message.buttons
    # The bot removes them right after its reply (a database write in between, so wait for it).
    await buyer.wait_for(lambda _: old.buttons == [])
    assert question in old.text
    await buyer.send("/rate")  # again: the second message loses its buttons too, the third has them
    await buyer.wait_for(lambda u: len([m for m in u.messages if m.buttons]) == 1)


@pytest.mark.parametrize(("language", "refused", "state"), [
    ("zh", "商品 SHAMPOO-003 暂不符合开评条件：热度 65（需 ≥ 100）", "当前为“已取消”，无法取消。"),
    ("en", "Product SHAMPOO-003 can't have a round yet: popularity 65 (needs ≥ 100)",
     "is cancelled; it can't be cancelled."),
])
async def test_admin_refusals_are_worded_wholly_in_the_admins_language(
    h: Harness, language: str, refused: str, state: str
) -> None:
    admin = h.admin
    if language == "zh":
        await admin.send("/language")
        await admin.tap("中文")
    await admin.send("/newround SHAMPOO-003")
    assert refused in admin.last_message.text
    round_id = await rounds.schedule_round(h.rt, "SHAMPOO-001", actor="test")  # the language is the chat's
    await admin.send(f"/cancelround {round_id}")
    await admin.send(f"/cancelround {round_id}")
    assert state in admin.last_message.text
    await admin.send("/newround SHAMPOO-001 7x")
    assert ("不是有效的时长" if language == "zh" else "is not a duration") in admin.last_message.text

