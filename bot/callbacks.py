"""The one owner of callback data: prefixes, encoding, decoding and validation.

Callback data comes back from the client and is never trusted: `decode` accepts only the exact
shapes below and returns None for anything else. Every shape fits Telegram's 64-byte limit.

    b:{ballot_id}:{rev}:{action}   a rating-screen button; rev tells a stale button from a live one
    i:{round_id}:{action}          an invitation button
    l:{lang}                       a language choice
    f:{action}                     /forgetme: y = confirm, n = keep my data
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

MAX_BYTES = 64

# Ballot actions: "1".."5" a score, "u" not sure, "k" back, "s" submit, "v" revise after submit,
# "e{position}" change a factor from the summary.
_BALLOT = re.compile(r"^b:(\d{1,12}):(\d{1,9}):([1-5]|u|k|s|v|e\d{1,2})$")
_INVITE = re.compile(r"^i:(\d{1,12}):([rns])$")
_LANG = re.compile(r"^l:(zh|en)$")
_FORGET = re.compile(r"^f:([yn])$")

InviteAction = Literal["r", "n", "s"]


@dataclass(frozen=True)
class BallotButton:
    ballot_id: int
    rev: int
    action: str

    def encode(self) -> str:
        return _checked(f"b:{self.ballot_id}:{self.rev}:{self.action}")


@dataclass(frozen=True)
class InviteButton:
    round_id: int
    action: str  # r = rate now, n = not now, s = stop inviting me

    def encode(self) -> str:
        return _checked(f"i:{self.round_id}:{self.action}")


@dataclass(frozen=True)
class LanguageButton:
    lang: str

    def encode(self) -> str:
        return _checked(f"l:{self.lang}")


@dataclass(frozen=True)
class ForgetButton:
    confirm: bool

    def encode(self) -> str:
        return _checked(f"f:{'y' if self.confirm else 'n'}")


Button = BallotButton | InviteButton | LanguageButton | ForgetButton


def _checked(data: str) -> str:
    if len(data.encode()) > MAX_BYTES:
        raise ValueError(f"callback data over {MAX_BYTES} bytes: {data!r}")
    return data


def decode(data: str | None) -> Button | None:
    """The button this data stands for, or None when it is not one we could have made."""
    if not data or len(data.encode()) > MAX_BYTES:
        return None
    if m := _BALLOT.fullmatch(data):
        return BallotButton(int(m[1]), int(m[2]), m[3])
    if m := _INVITE.fullmatch(data):
        return InviteButton(int(m[1]), m[2])
    if m := _LANG.fullmatch(data):
        return LanguageButton(m[1])
    if m := _FORGET.fullmatch(data):
        return ForgetButton(m[1] == "y")
    return None
