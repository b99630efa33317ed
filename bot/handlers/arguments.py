"""The arguments of the bot's commands, parsed the one way (Telegram-free, so they can be fuzzed).

Each parser returns plain values in their columns' ranges, or raises `UsageNeeded` (the wrong number of
words: the answer is the command's usage) or a `BadInput` saying what is wrong with one of them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

from bot.domain.durations import MAX_ROUND_LENGTH, parse_duration
from bot.domain.numbers import parse_whole


class UsageNeeded(Exception):
    """Too few or too many words after the command."""


@dataclass(frozen=True)
class NewRound:
    sku: str
    duration: timedelta | None
    quota: int | None


def round_id_arg(args: Sequence[str]) -> int:
    """`/round ID` and the like: exactly one round id."""
    if len(args) != 1:
        raise UsageNeeded
    return parse_whole(args[0], what="round id")


def new_round_args(args: Sequence[str]) -> NewRound:
    """`/newround SKU [duration] [quota]`."""
    if not 1 <= len(args) <= 3:
        raise UsageNeeded
    duration = parse_duration(args[1], MAX_ROUND_LENGTH) if len(args) > 1 else None
    quota = parse_whole(args[2], what="quota") if len(args) == 3 else None
    return NewRound(args[0], duration, quota)
