"""The one owner of callback data: prefixes, encoding, decoding and validation.

Callback data comes back from the client and is never trusted: `decode` accepts only the exact
shapes below and returns None for anything else. Every shape fits Telegram's 64-byte limit.

    b:{ballot_id}:{rev}:{move}     a rating-screen button; rev tells a stale button from a live one
    i:{round_id}:{choice}          an invitation button
    l:{lang}                       a language choice
    f:{y|n}                        /forgetme: y = confirm, n = keep my data
    p:{list}:{page}                a page of a long list (m = /myratings, e = /eligible, r = /rounds)
    s:c | s:k:{round_id}:{page} | s:r:{round_id} | s:h:{round_id} | s:t:{round_id}
                                   browsing published scorecards: the categories, the products of that
                                   round's category, its scorecard, its product's history, its
                                   category's ranking (a round id always fits; a category key may not)
    a:{round_id}:{r|t}             an admin's answer about a scorecard post in doubt: r = repost, t = it's there

Numbers are ASCII digits without leading zeros (`\\d` would take `١` too), within what their column
holds (`bot.domain.numbers`): data past that cannot be ours, and PostgreSQL would refuse the lookup.
    m:{response_id}:{rev}:{move}   a research-survey button: p{position} pick, k back, s submit, v revise
    q:{research_id}:{choice}       a research invitation button (choices as i:)

The letters are the wire format only: a rating button decodes to the domain's `Move`
(`bot.domain.ballot_rule`), an invitation button to an `InviteChoice`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum, auto
from typing import ClassVar, Generic, TypeVar, cast

from bot.domain.ballot_rule import Action, Move
from bot.domain.errors import BadNumber
from bot.domain.numbers import INT32_MAX, parse_whole
from bot.domain.research_rule import ResearchAction, ResearchMove
from bot.domain.settings import LANGUAGES

MAX_BYTES = 64
M = TypeVar("M", Move, ResearchMove)


class InviteChoice(Enum):
    """The buttons under an invitation."""

    RATE_NOW = auto()  # the invitation becomes the ballot's first screen
    NOT_NOW = auto()  # /rate brings it back until the round closes
    STOP = auto()  # no more invitations


# Rating moves on the wire: "1".."5" a score, "u" not sure, "k" back, "s" submit, "v" revise after
# submitting, "e{position}" change a factor from the summary.
_LETTERS = {Action.NOT_SURE: "u", Action.BACK: "k", Action.SUBMIT: "s", Action.REVISE: "v"}
_ACTIONS = {letter: action for action, letter in _LETTERS.items()}
_INVITE_LETTERS = {InviteChoice.RATE_NOW: "r", InviteChoice.NOT_NOW: "n", InviteChoice.STOP: "s"}
_CHOICES = {letter: choice for choice, letter in _INVITE_LETTERS.items()}

_N = "(0|[1-9][0-9]{0,9})"  # a whole number as `encode` writes it; its range is checked after matching
_BALLOT = re.compile(rf"b:{_N}:{_N}:(?:([1-5])|([ukvs])|e{_N})")
_ANSWER = re.compile(rf"([iq]):{_N}:([rns])")
_LANG = re.compile(rf"l:({'|'.join(LANGUAGES)})")
_FORGET = re.compile(r"f:([yn])")
_PAGE = re.compile(rf"p:([mer]):{_N}")
_SHOWCASE = re.compile(rf"s:(?:(c)|k:{_N}:{_N}|([rht]):{_N})")
_POST = re.compile(rf"a:{_N}:([rt])")
_RESEARCH = re.compile(rf"m:{_N}:{_N}:(?:p([0-9])|([kvs]))")
_RESEARCH_LETTERS = {ResearchAction.BACK: "k", ResearchAction.SUBMIT: "s", ResearchAction.REVISE: "v"}
_RESEARCH_ACTIONS = {letter: action for action, letter in _RESEARCH_LETTERS.items()}
# The most pages a list may have: far more than any store's products at ~40 a page.
MAX_PAGE = 99_999


class ListKind(Enum):
    """The long lists the bot sends a page at a time."""

    MY_RATINGS = "m"
    ELIGIBLE = "e"
    ROUNDS = "r"


class _Data:
    """What every button has: `encode()`, the data it sends back."""

    def encode(self) -> str:
        return encode(cast(Button, self))  # every subclass is one of the Button types


@dataclass(frozen=True)
class _Press(_Data, Generic[M]):
    """A press on a sheet the user fills in, as its message showed it at revision `rev`: a press made
    on an older revision is stale."""

    prefix: ClassVar[str]
    sheet_id: int
    rev: int
    move: M


class BallotButton(_Press[Move]):
    """A rating-screen button; the sheet is a ballot."""

    prefix = "b"


class ResearchButton(_Press[ResearchMove]):
    """A research-survey button; the sheet is a research response."""

    prefix = "m"


@dataclass(frozen=True)
class _Answer(_Data):
    """A button under an invitation to round `round_id`."""

    prefix: ClassVar[str]
    round_id: int
    choice: InviteChoice


class InviteButton(_Answer):
    """An answer to an invitation to a rating round."""

    prefix = "i"


class ResearchInviteButton(_Answer):
    """An answer to an invitation to a research round."""

    prefix = "q"


@dataclass(frozen=True)
class LanguageButton(_Data):
    lang: str


@dataclass(frozen=True)
class ForgetButton(_Data):
    confirm: bool


@dataclass(frozen=True)
class PageButton(_Data):
    """Shows page `page` (0 = the first) of the list `kind`."""

    kind: ListKind
    page: int


class Shelf(Enum):
    """What a browsing button shows (/scores)."""

    CATEGORIES = "c"
    CATEGORY = "k"  # the products of the round's category, a page at a time
    SCORECARD = "r"  # one published round's scorecard
    HISTORY = "h"  # every published round of that round's product
    RANKING = "t"  # the ranking of the round's category


@dataclass(frozen=True)
class ShowcaseButton(_Data):
    """A /scores browsing button about published round `round_id` (none for CATEGORIES)."""

    shelf: Shelf
    round_id: int = 0
    page: int = 0


@dataclass(frozen=True)
class PostButton(_Data):
    """An admin's answer about a scorecard post in doubt (bot.domain.publication)."""

    round_id: int
    repost: bool  # False: "it's there"


Button = (BallotButton | InviteButton | LanguageButton | ForgetButton | PageButton | PostButton | ShowcaseButton
          | ResearchButton | ResearchInviteButton)
_ANSWERS = {kind.prefix: kind for kind in (InviteButton, ResearchInviteButton)}
# The range of each number on the wire: ids and revisions are INTEGER columns; positions index factors.
_RANGES = {"id": (1, INT32_MAX), "rev": (0, INT32_MAX), "position": (0, 99), "page": (0, MAX_PAGE)}


def encode(button: Button) -> str:
    """The callback data of `button`; a shape over Telegram's 64 bytes is a bug, so it raises."""
    if type(button) is BallotButton and (wire := _MOVE_WIRE.get(button.move)) is not None \
            and _in_range(button.sheet_id, "id") and _in_range(button.rev, "rev"):
        return f"b:{button.sheet_id}:{button.rev}:{wire}"  # its read-back is proven below, once
    match button:
        case _Press(sheet_id, rev, move):
            data = f"{button.prefix}:{sheet_id}:{rev}:{_move_letters(move)}"
        case _Answer(round_id, choice):
            data = f"{button.prefix}:{round_id}:{_INVITE_LETTERS[choice]}"
        case LanguageButton(lang):
            data = f"l:{lang}"
        case ForgetButton(confirm):
            data = f"f:{'y' if confirm else 'n'}"
        case PageButton(kind, page):
            data = f"p:{kind.value}:{page}"
        case ShowcaseButton(Shelf.CATEGORIES):
            data = "s:c"
        case ShowcaseButton(Shelf.CATEGORY, round_id, page):
            data = f"s:k:{round_id}:{page}"
        case ShowcaseButton(shelf, round_id):
            data = f"s:{shelf.value}:{round_id}"
        case PostButton(round_id, repost):
            data = f"a:{round_id}:{'r' if repost else 't'}"
    if len(data.encode()) > MAX_BYTES or decode(data) != button:
        raise ValueError(f"callback data we could not read back (a bug): {data!r} for {button!r}")
    return data


def _move_letters(move: Move | ResearchMove) -> str:
    """What a move is on the wire, after the sheet and its revision."""
    match move:
        case Move(Action.SCORE, number):
            return str(number)
        case Move(Action.EDIT, position):
            return f"e{position}"
        case Move(action):
            return _LETTERS[action]
        case ResearchMove(ResearchAction.PICK, position):
            return f"p{position}"
        case ResearchMove(action):
            return _RESEARCH_LETTERS[action]
    raise AssertionError(move)


def _in_range(number: object, kind: str) -> bool:
    minimum, maximum = _RANGES[kind]
    return type(number) is int and minimum <= number <= maximum


def _moves_read_back() -> dict[Move, str]:
    """Every rating move with the wire form it reads back from: proven once, at import.

    A rating screen encodes seven buttons on every tap, and reading each one back (`encode`'s check)
    was a third of building the screen. A ballot button's data is its two numbers and its move's
    form: with the numbers in their ranges (written as plain digits), it reads back exactly when the
    move's form does, whatever the numbers are."""
    moves = [Move.score(n) for n in range(1, 6)] + [Move.edit(p) for p in range(_RANGES["position"][1] + 1)]
    moves += [Move(action) for action in _LETTERS]
    wire = {}
    for move in moves:
        data = encode(BallotButton(1, 0, move))  # the general path, with its read-back check
        wire[move] = data.removeprefix("b:1:0:")
    return wire


def ballot_prefix(ballot_id: int, rev: int) -> str:
    """What every button of ballot `ballot_id`'s screen at `rev` sends before its move (`move_wire`):
    `BallotButton(ballot_id, rev, move).encode()` is this followed by the move's wire form. Numbers out
    of their ranges raise as `encode` does."""
    if not (_in_range(ballot_id, "id") and _in_range(rev, "rev")):
        encode(BallotButton(ballot_id, rev, Move(Action.SUBMIT)))  # raises: data we could not read back
    return f"b:{ballot_id}:{rev}:"


def move_wire(move: Move) -> str:
    """A rating move's form on the wire, after `ballot_prefix` (read back once, at import)."""
    wire = _MOVE_WIRE.get(move)
    return wire if wire is not None else encode(BallotButton(1, 0, move)).removeprefix("b:1:0:")


def _number(text: str, kind: str) -> int:
    minimum, maximum = _RANGES[kind]
    return parse_whole(text, what=kind, minimum=minimum, maximum=maximum)


def decode(data: str | None) -> Button | None:
    """The button this data stands for, or None when it is not one we could have made."""
    if not isinstance(data, str) or not data or len(data.encode()) > MAX_BYTES:
        return None
    try:
        return _read(data)
    except BadNumber:  # the shape of ours, a number out of its range
        return None


def _read(data: str) -> Button | None:
    if m := _BALLOT.fullmatch(data):
        score, letter, position = m[3], m[4], m[5]
        move = (Move.score(int(score)) if score else Move(_ACTIONS[letter]) if letter
                else Move.edit(_number(position, "position")))
        return BallotButton(_number(m[1], "id"), _number(m[2], "rev"), move)
    if m := _ANSWER.fullmatch(data):
        return _ANSWERS[m[1]](_number(m[2], "id"), _CHOICES[m[3]])
    if m := _LANG.fullmatch(data):
        return LanguageButton(m[1])
    if m := _FORGET.fullmatch(data):
        return ForgetButton(m[1] == "y")
    if m := _PAGE.fullmatch(data):
        return PageButton(ListKind(m[1]), _number(m[2], "page"))
    if m := _SHOWCASE.fullmatch(data):
        if m[1]:
            return ShowcaseButton(Shelf.CATEGORIES)
        if m[2]:
            return ShowcaseButton(Shelf.CATEGORY, _number(m[2], "id"), _number(m[3], "page"))
        return ShowcaseButton(Shelf(m[4]), _number(m[5], "id"))
    if m := _POST.fullmatch(data):
        return PostButton(_number(m[1], "id"), m[2] == "r")
    if m := _RESEARCH.fullmatch(data):
        pick = ResearchMove(ResearchAction.PICK, int(m[3])) if m[3] else ResearchMove(_RESEARCH_ACTIONS[m[4]])
        return ResearchButton(_number(m[1], "id"), _number(m[2], "rev"), pick)
    return None


# Empty while it is filled, so that filling it encodes every move through the general, checked path.
_MOVE_WIRE: dict[Move, str] = {}
_MOVE_WIRE.update(_moves_read_back())
