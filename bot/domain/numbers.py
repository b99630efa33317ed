"""Whole numbers typed by people or sent back by clients: the one parser every edge uses.

Python's `int()`, `str.isdigit()` and the regex `\\d` all accept Unicode digits (`١` is 1, and `²`
passes `isdigit()` but not `int()`), and `int()` takes `_` separators and spaces. None of those come
from our own buttons or from an operator who means a number, so only ASCII `[0-9]` is read here. The
range is the column's: our ids, counts and quotas are SQL `INTEGER` (32 bits on PostgreSQL, which
refuses a bigger value with "value out of int32 range" after the request was already accepted).
"""

from __future__ import annotations

import re

from bot.domain.errors import BadNumber

INT32_MAX = 2**31 - 1
_ASCII_WHOLE = re.compile(r"[0-9]+")
# Longer input is not a number we could store; also keeps int() away from its 4300-digit guard.
_MAX_DIGITS = 12
# How much of a bad value an error message repeats: an error must never be longer than a message.
SHOWN = 24


def printable(text: str) -> str:
    """`text` on one line: control characters (a newline, a NUL) written as escapes."""
    return "".join(ch if ch.isprintable() else repr(ch)[1:-1] for ch in text)


def shown(text: str) -> str:
    """`text` as an error message repeats it: on one line, at most SHOWN characters."""
    text = printable(text[: SHOWN * 2])
    return text if len(text) <= SHOWN else text[: SHOWN - 1] + "…"


def parse_whole(text: str, *, what: str, minimum: int = 1, maximum: int = INT32_MAX) -> int:
    """`text` as a whole number from `minimum` to `maximum` (ASCII digits only, nothing else);
    otherwise `BadNumber`, which names `what` and the range."""
    value = text.strip() if isinstance(text, str) else ""
    if not _ASCII_WHOLE.fullmatch(value) or len(value.lstrip("0")) > _MAX_DIGITS:
        raise BadNumber(what=what, value=shown(str(text)), minimum=minimum, maximum=maximum)
    return check_whole(int(value), what=what, minimum=minimum, maximum=maximum, text=text)


def check_whole(number: int, *, what: str, minimum: int = 1, maximum: int = INT32_MAX, text: str | None = None) -> int:
    """`number` itself when `minimum <= number <= maximum`, else `BadNumber`: for numbers that arrive
    already parsed (a TOML value, a service's argument)."""
    if not minimum <= number <= maximum:
        raise BadNumber(what=what, value=shown(str(number) if text is None else text), minimum=minimum,
                        maximum=maximum)
    return number
