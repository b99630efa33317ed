"""What an import reports: each file's counts, or every problem as `FILE:LINE: what is wrong`."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from bot.domain.errors import DomainError

MAX_SHOWN_ERRORS = 20


@dataclass(frozen=True)
class ImportResult:
    file: str
    kind: str  # "products" | "customers" | "purchases" | "categories"
    added: int
    updated: int
    unchanged: int

    @property
    def total(self) -> int:
        return self.added + self.updated + self.unchanged


class ImportFailed(DomainError):
    """One or more files had problems; none of their rows were written.

    `errors` holds every problem as `FILE:LINE: what is wrong`; `results` the files of the same
    call that were imported all the same.
    """

    key = "import.failed"

    def __init__(self, errors: Sequence[str], results: Sequence[ImportResult] = (), more: int = 0) -> None:
        self.errors = list(errors)
        self.results = list(results)
        self.more = more  # problems found beyond those kept in `errors` (see csvrows.KEPT_ERRORS)
        super().__init__(count=len(self.errors) + more, errors=self.summary())

    def summary(self) -> str:
        """The errors one per line, capped so a broken 100k-row file stays readable."""
        lines = self.errors[:MAX_SHOWN_ERRORS]
        more = len(self.errors) + self.more - len(lines)
        if more:
            lines = [*lines, f"... and {more} more error{'s' if more > 1 else ''}"]
        return "\n".join(lines)

    def describe(self) -> str:
        return self.summary()


class Invalid(Exception):
    """A file's problems; raised inside its transaction so nothing is written."""

    def __init__(self, errors: list[str], more: int = 0) -> None:
        super().__init__(f"{len(errors) + more} errors")
        self.errors = errors
        self.more = more


def show(value: str) -> str:
    """A value quoted for an error message, cut short: messages end up in chats and logs."""
    return repr(value if len(value) <= 40 else value[:37] + "...")
