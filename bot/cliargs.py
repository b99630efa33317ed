"""The command line's edges: its argument types and how a failure becomes the SPEC's one line.

Every number an operator types goes through the parser the bot's commands use (`bot.domain.numbers`),
so `--quota ²`, `--quota ١٠` or `--quota 99999999999` are refused with the same words before anything
runs (durations and times, read once the config is, go through `bot.domain.durations` and `clock`).
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, NoReturn

from bot.domain.errors import BadInput
from bot.domain.numbers import INT32_MAX, parse_whole, printable
from bot.domain.settings import LANGUAGES
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


def add_output(command: argparse.ArgumentParser, formats: tuple[str, ...], out: str | None = None) -> None:
    """A report's options, as every command that prints one takes them: `--format`, `--out` (with `out`,
    its help, for a format written to a file), `--lang`."""
    command.add_argument("--format", choices=formats, default="text")
    if out:
        command.add_argument("--out", metavar="F.png", help=out)
    command.add_argument("--lang", choices=sorted(LANGUAGES), default="en")


def method_file(export: Path) -> Path:
    """Where an export's method document sits: `F.method.json` beside `F.csv`."""
    return export.with_name(export.stem + ".method.json")


def write_export(out: Path, text: str, document: Mapping[str, Any], rows: str) -> None:
    """Writes an export's CSV text to `out` and its method document beside it, and says so (`rows`:
    what a line of the CSV is)."""
    method = method_file(out)
    out.write_text(text, encoding="utf-8")
    method.write_text(json.dumps(document, ensure_ascii=False, indent=2), encoding="utf-8")
    print(f"wrote {out} ({text.count(chr(10)) - 1} {rows}) and {method}")
