"""Callback data: only shapes we could have made are accepted, and all fit 64 bytes."""

from __future__ import annotations

import pytest

from bot.callbacks import MAX_BYTES, BallotButton, InviteButton, LanguageButton, decode


def test_every_button_round_trips_through_its_data() -> None:
    for button in (BallotButton(123456789012, 999999999, "e9"), InviteButton(42, "r"), LanguageButton("zh")):
        data = button.encode()
        assert len(data.encode()) <= MAX_BYTES
        assert decode(data) == button


@pytest.mark.parametrize(
    "data",
    ["", None, "b:1:2", "b:1:2:6", "b:x:2:1", "b:1:2:e", "i:1:q", "l:fr", "b:1:2:1:extra", "x" * 80,
     "b:1:2:1\n", "b:-1:2:1"],
)
def test_data_we_could_not_have_made_is_refused(data: str | None) -> None:
    assert decode(data) is None
