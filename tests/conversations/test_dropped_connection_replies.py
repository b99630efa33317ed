"""A PostgreSQL connection lost in the middle of a command or a button that is not a tap (those are
retried: tests/domain/test_dropped_connections.py): the user is told "busy, try again" in their
language — the button answered, no apology, no handler error — and trying again works."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import text

from bot.domain import people
from tests.conversations.conftest import Harness


@pytest.fixture
def dropping_once(h: Harness, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The next `people.opt_out` loses its connection midway (it terminates its own backend)."""
    if h.rt.db.is_sqlite:
        pytest.skip("PostgreSQL only: a SQLite file has no connection to drop")
    opt_out = people.opt_out
    calls: list[str] = []

    async def dropping(rt: Any, user_id: int) -> bool:
        calls.append("call")
        if len(calls) == 1:
            async with rt.db.session() as s:
                await s.execute(text("SELECT pg_terminate_backend(pg_backend_pid())"))
        return await opt_out(rt, user_id)

    monkeypatch.setattr(people, "opt_out", dropping)
    return calls


async def test_a_command_whose_connection_drops_is_told_busy_and_works_again(
    h: Harness, dropping_once: list[str]
) -> None:
    alice = await h.linked("C0001", "Alice", "zh")
    await alice.send("/stop")
    assert "繁忙" in alice.last_message.text and "抱歉" not in alice.last_message.text
    await alice.send("/stop")
    assert dropping_once == ["call", "call"] and "繁忙" not in alice.last_message.text


async def test_a_button_whose_connection_drops_gets_an_answer_saying_busy(h: Harness, dropping_once: list[str]) -> None:
    alice = await h.linked("C0001", "Alice")
    await h.open_round()
    await alice.wait_for(lambda u: any("Stop inviting me" in m.button_texts for m in u.messages))
    await alice.tap("Stop inviting me")
    assert "Busy right now" in alice.last_alert.text and alice.last_alert.show_alert
    await alice.tap("Stop inviting me")
    assert "no more invitations" in alice.last_message.text
