"""Callback data: only shapes we could have made are accepted, and all fit 64 bytes."""

from __future__ import annotations

import pytest

from bot.callbacks import MAX_BYTES, BallotButton, ForgetButton, InviteButton, InviteChoice, LanguageButton, decode
from bot.domain.ballot_rule import Action, Move


def test_every_button_round_trips_through_its_data() -> None:
    plain = [Move(a) for a in Action if a not in (Action.SCORE, Action.EDIT)]
    moves = [Move.edit(9), *map(Move.score, range(1, 6)), *plain]
    buttons = [BallotButton(123456789012, 999999999, move) for move in moves]
    buttons += [InviteButton(42, choice) for choice in InviteChoice]
    buttons += [LanguageButton("zh"), ForgetButton(True), ForgetButton(False)]
    for button in buttons:
        data = button.encode()
        assert len(data.encode()) <= MAX_BYTES
        assert decode(data) == button


def test_the_wire_letters_stay_as_clients_already_hold_them() -> None:
    assert BallotButton(7, 3, Move.score(4)).encode() == "b:7:3:4"
    assert BallotButton(7, 3, Move(Action.NOT_SURE)).encode() == "b:7:3:u"
    assert BallotButton(7, 3, Move.edit(2)).encode() == "b:7:3:e2"
    letters = {Action.BACK: "k", Action.SUBMIT: "s", Action.REVISE: "v"}
    assert {a: BallotButton(7, 3, Move(a)).encode()[-1] for a in letters} == letters
    choices = {InviteChoice.RATE_NOW: "i:5:r", InviteChoice.NOT_NOW: "i:5:n", InviteChoice.STOP: "i:5:s"}
    assert {c: InviteButton(5, c).encode() for c in choices} == choices
    assert (LanguageButton("en").encode(), ForgetButton(True).encode(), ForgetButton(False).encode()) == (
        "l:en", "f:y", "f:n")


@pytest.mark.parametrize(
    "data",
    ["", None, "b:1:2", "b:1:2:6", "b:x:2:1", "b:1:2:e", "i:1:q", "l:fr", "b:1:2:1:extra", "x" * 80,
     "b:1:2:1\n", "b:-1:2:1"],
)
def test_data_we_could_not_have_made_is_refused(data: str | None) -> None:
    assert decode(data) is None
