"""An unexpected exception: the user gets an apology in their language, the admins one report."""

from __future__ import annotations

import pytest

from bot.domain import ballot_views, identity
from bot.sandbox import ApiCall
from tests.conftest import ADMIN_ID
from tests.conversations.conftest import Harness


def reports(h: Harness) -> list[ApiCall]:
    return [c for c in h.sandbox.sent_to(ADMIN_ID) if "redheart error" in str(c.params.get("text"))]


async def test_a_failing_handler_apologises_in_the_users_language_and_reports_once_to_the_admin(
    h: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def broken(*args: object, **kwargs: object) -> object:
        raise RuntimeError("the database caught fire")

    monkeypatch.setattr(ballot_views, "my_ratings", broken)
    wang = await h.linked("C0001", "王", language="zh")
    admin = h.admin
    await admin.send("/help")  # an admin who has started the bot can be messaged
    await wang.send("/myratings")
    await wang.wait_for(lambda u: "抱歉" in u.last_message.text)
    assert "出了点问题" in wang.last_message.text and "sorry" not in wang.last_message.text.lower()
    await admin.wait_for(lambda a: a.messages and "redheart error" in a.last_message.text)
    [report] = reports(h)
    assert "RuntimeError" in report.params["text"] and "the database caught fire" in report.params["text"]
    assert "/myratings" in report.params["text"]  # the update it failed on

    await wang.send("/myratings")  # fails again at once: apologised to, but not reported twice
    assert "抱歉" in wang.last_message.text
    assert len(reports(h)) == 1
    assert [str(e) for e in h.errors] == ["the database caught fire"] * 2
    h.errors.clear()  # seen and asserted; the harness fails a test on any handler error left over


PHONE = "+8613806105001"  # C0001's, as the store imported it


async def test_a_failing_contact_or_link_never_puts_the_phone_or_the_token_in_the_log_or_the_report(
    h: Harness, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """Before: the admins' report and the log carried the whole update, phone number and link token too."""
    async def broken(*args: object, **kwargs: object) -> object:
        raise RuntimeError("the identity service fell over")

    monkeypatch.setattr(identity, "link_by_contact", broken)
    monkeypatch.setattr(identity, "link_by_token", broken)
    await h.admin.send("/help")
    payload = await identity.issue_link_token(h.rt, "C0002")
    buyer = h.person("Buyer")
    await buyer.share_contact(PHONE)
    await buyer.wait_for(lambda u: "sorry" in u.last_message.text.lower())
    await h.admin.wait_for(lambda a: "redheart error" in a.last_message.text)
    [report] = reports(h)
    assert "RuntimeError" in report.params["text"] and "contact" in report.params["text"]
    await buyer.send(f"/start {payload}")
    await buyer.wait_for(lambda u: len([m for m in u.messages if "sorry" in (m.text or "").lower()]) == 2)
    logged = caplog.text
    for secret in (PHONE, PHONE[3:], payload, h.rt.config.telegram.token):
        assert secret not in logged
        assert all(secret not in str(call.params) for call in h.sandbox.sent_to(ADMIN_ID))
    assert "/start [redacted]" in logged and "[redacted]" in report.params["text"]
    h.errors.clear()  # both failures seen; the harness fails a test on any handler error left over
