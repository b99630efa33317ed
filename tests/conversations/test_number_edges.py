"""Numbers and durations from users, on SQLite and PostgreSQL: too big for their column, not ASCII
digits, or past a round's bounds — each gets a clear answer in the user's language, and nothing else.

Before: on PostgreSQL, `b:999999999999:1:1` from anyone, `/round 99999999999` and a quota of
99999999999 raised "value out of int32 range" (the callback never answered, the user got an apology);
`/round ²` raised ValueError; `999999999d` an OverflowError; `99999d` opened a round closing in 2300.
"""

from __future__ import annotations

import pytest

from bot.domain import rounds
from tests.conversations.conftest import Harness


@pytest.mark.parametrize("data", ["b:999999999999:1:1", "b:2147483648:0:s", "i:99999999999:r", "b:١:1:1",
                                  "i:٣:r", "b:1:2147483648:e1", "p:m:100000"])
async def test_a_button_with_an_id_beyond_its_column_or_foreign_digits_is_answered_as_not_valid(
        h: Harness, data: str) -> None:
    anyone = h.person("Anyone")
    await anyone.send("/help")
    await anyone.tap_data(data)
    assert anyone.last_alert.text == "This button is not valid."


@pytest.mark.parametrize(("command", "expected"), [
    ("/round 99999999999", "'99999999999' is not a number I can take: write a whole number from 1 to 2147483647"),
    ("/round ²", "'²' is not a number"),
    ("/closeround ١", "'١' is not a number"),
    ("/cancelround 2147483648", "from 1 to 2147483647"),
    ("/export 0", "'0' is not a number"),
    ("/newround SHAMPOO-001 7d 99999999999", "'99999999999' is not a number"),
    ("/newround SHAMPOO-001 7d ٥٠٠", "'٥٠٠' is not a number"),
    ("/newround SHAMPOO-001 999999999d", "'999999999d' is too long: at most 90d"),
    ("/newround SHAMPOO-001 99999d", "'99999d' is too long: at most 90d"),
    ("/newround SHAMPOO-001 ٧d", "'٧d' is not a duration"),
])
async def test_an_admin_command_with_a_number_out_of_range_says_what_is_wrong_and_how_to_write_it(
        h: Harness, command: str, expected: str) -> None:
    await h.admin.send(command)
    text = h.admin.last_message.text
    assert expected in text and "Usage: /" in text, text
    assert not await rounds.list_rounds(h.rt)


async def test_the_same_refusal_reads_in_chinese(h: Harness) -> None:
    h.admin.profile.language_code = "zh"  # type: ignore[attr-defined]
    await h.admin.send("/newround SHAMPOO-001 7d 99999999999")
    assert "不是有效的数字" in h.admin.last_message.text and "2147483647" in h.admin.last_message.text
    await h.admin.send("/newround SHAMPOO-001 99999d")
    assert "太长了" in h.admin.last_message.text and "90d" in h.admin.last_message.text


async def test_a_round_of_the_longest_length_is_still_taken(h: Harness) -> None:
    await h.admin.send("/newround SHAMPOO-001 90d 2147483647")
    assert "scheduled" in h.admin.last_message.text
    [info] = await rounds.list_rounds(h.rt)
    assert info.quota == 2147483647 and (info.closes_at - info.opens_at).days == 90
