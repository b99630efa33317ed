"""The command line's edges: its argument types and how a failure becomes the SPEC's one line.

Every number an operator types goes through the parser the bot's commands use (`bot.domain.numbers`),
so `--quota ²`, `--quota ١٠` or `--quota 99999999999` are refused with the same words before anything
runs (durations and times, read once the config is, go through `bot.domain.durations` and `clock`).
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import NoReturn

from bot.domain.errors import BadInput
from bot.domain.numbers import INT32_MAX, parse_whole, printable
from bot.texts import error_message


class Parser(argparse.ArgumentParser):
    """argparse, but a wrong argument is one line on stderr (the SPEC's rule for every failure)."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: {printable(message)} (see {self.prog} --help)\n")


def whole(what: str, *, minimum: int = 1, maximum: int = INT32_MAX) -> Callable[[str], int]:
    """An argparse type: a whole number from `minimum` to `maximum`, ASCII digits only."""

    def parse(text: str) -> int:
        try:
            return parse_whole(text, what=what, minimum=minimum, maximum=maximum)
        except BadInput as exc:
            raise argparse.ArgumentTypeError(error_message(exc, "en", plain=True)) from None

    return parse
