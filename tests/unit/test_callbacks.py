"""Callback data: only shapes we could have made are accepted, and all fit 64 bytes."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.callbacks import (
    MAX_BYTES,
    MAX_PAGE,
    BallotButton,
    Button,
    ForgetButton,
    InviteButton,
    InviteChoice,
    LanguageButton,
    ListKind,
    PageButton,
    PostButton,
    decode,
)
from bot.domain.ballot_rule import Action, Move
from bot.domain.numbers import INT32_MAX


def test_every_button_round_trips_through_its_data() -> None:
    plain = [Move(a) for a in Action if a not in (Action.SCORE, Action.EDIT)]
    moves = [Move.edit(9), *map(Move.score, range(1, 6)), *plain]
    buttons = [BallotButton(INT32_MAX, INT32_MAX, move) for move in moves]
    buttons += [InviteButton(42, choice) for choice in InviteChoice]
    buttons += [LanguageButton("zh"), ForgetButton(True), ForgetButton(False)]
    buttons += [PageButton(kind, page) for kind in ListKind for page in (0, 7, MAX_PAGE)]
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


@pytest.mark.parametrize(
    "data",
    [
        "b:999999999999:1:1", "b:2147483648:1:1", "b:1:2147483648:1", "i:99999999999:r", "i:2147483648:r",
        "b:١:1:1", "b:1:١:1", "i:١٢:r", "b:²:1:1", "b:1:1:e٣", "p:m:١", "b:01:1:1", "i:007:r", "b:0:1:1",
        "i:0:n", "p:r:100000", "p:x:1", "b:１:1:1",
    ],
)
def test_numbers_beyond_their_columns_or_not_in_ascii_digits_are_refused(data: str) -> None:
    """Before: `\\d{1,12}` let 999999999999 and Arabic-Indic digits through to a PostgreSQL INTEGER."""
    assert decode(data) is None


def test_a_button_whose_data_could_not_be_read_back_is_a_bug_and_raises() -> None:
    with pytest.raises(ValueError):
        BallotButton(INT32_MAX + 1, 0, Move.score(1)).encode()
    with pytest.raises(ValueError):
        PageButton(ListKind.ROUNDS, -1).encode()


_WIRE_ALPHABET = st.sampled_from(list("bilfpamert:0123456789ukvsyne-_ ²١１\n\x00é中🙂"))


@given(st.one_of(st.text(), st.text(_WIRE_ALPHABET, max_size=40), st.none(),
                 st.from_regex(r"[bipa]:[0-9]{1,14}:[0-9rt]{1,14}(:[0-9eukvs]{1,3})?", fullmatch=True)))
def test_any_data_decodes_to_nothing_or_to_a_button_that_encodes_back_to_it(data: str | None) -> None:
    """The fuzzed codec never raises; whatever it accepts is exactly data we could have made."""
    button = decode(data)
    if button is not None:
        assert button.encode() == data


_IDS = st.integers(1, INT32_MAX)
_BUTTONS = st.one_of(
    st.builds(BallotButton, _IDS, st.integers(0, INT32_MAX),
              st.one_of(st.builds(Move.score, st.integers(1, 5)), st.builds(Move.edit, st.integers(0, 99)),
                        st.sampled_from([Move(a) for a in Action if a not in (Action.SCORE, Action.EDIT)]))),
    st.builds(InviteButton, _IDS, st.sampled_from(InviteChoice)),
    st.builds(PageButton, st.sampled_from(ListKind), st.integers(0, MAX_PAGE)),
    st.builds(PostButton, _IDS, st.booleans()),
)


@given(_BUTTONS)
def test_every_button_in_range_fits_64_bytes_and_round_trips(button: Button) -> None:
    data = button.encode()
    assert len(data.encode()) <= MAX_BYTES and decode(data) == button
