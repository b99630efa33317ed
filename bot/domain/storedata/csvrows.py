"""Reading a store CSV into checked rows: each problem is kept as `FILE:LINE: what is wrong`."""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from datetime import datetime

from bot.domain.clock import parse_time
from bot.domain.storedata.kinds import CSV_COLUMNS, normal_header
from bot.domain.storedata.results import Invalid, show

_UINT = re.compile(r"^[0-9]+$")
_INT_MAX = 2**31 - 1  # PostgreSQL INTEGER


@dataclass
class Rows:
    """A CSV file's data rows as (physical line of the row's start, column -> stripped value)."""

    name: str
    rows: list[tuple[int, dict[str, str]]]
    errors: list[str]
    # Natural keys met so far, with the line they were first on.
    seen: dict[str, int] = field(default_factory=dict)

    def error(self, line: int, message: str) -> None:
        self.errors.append(f"{self.name}:{line}: {message}")

    def check(self) -> None:
        if self.errors:
            raise Invalid(self.errors)

    def text(self, line: int, column: str, value: str, limit: int) -> bool:
        if not value:
            self.error(line, f"{column} is empty")
            return False
        if len(value) > limit:
            self.error(line, f"{column} is longer than {limit} characters")
            return False
        return True

    def count(self, line: int, column: str, value: str) -> int | None:
        if not _UINT.match(value):
            self.error(line, f"{column} must be a non-negative integer, got {show(value)}")
            return None
        number = int(value)
        if number > _INT_MAX:
            self.error(line, f"{column} is too large ({value})")
            return None
        return number

    def time(self, line: int, column: str, value: str) -> datetime | None:
        try:
            return parse_time(value)
        except (ValueError, OverflowError):
            self.error(line, f"{column} is not an ISO-8601 time (e.g. 2026-05-01T09:30:00Z), got {show(value)}")
            return None

    def first_seen(self, line: int, column: str, key: str) -> bool:
        """False (and an error) when the key already appeared on an earlier line of the file."""
        if key in self.seen:
            self.error(line, f"duplicate {column} {show(key)} (first on line {self.seen[key]})")
            return False
        self.seen[key] = line
        return True


def read_csv(name: str, text: str, kind: str) -> Rows:
    columns = CSV_COLUMNS[kind]
    result = Rows(name, [], [])
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = normal_header(next(reader))
        line = reader.line_num + 1
        for cells in reader:
            if not any(cell.strip() for cell in cells):
                pass  # blank lines (a trailing newline, a spreadsheet's empty rows) carry nothing
            elif len(cells) != len(columns):
                result.error(
                    line, f"expected {len(columns)} columns ({','.join(header)}), found {len(cells)}"
                )
            else:
                result.rows.append(
                    (line, {col: cell.strip() for col, cell in zip(header, cells, strict=True)})
                )
            line = reader.line_num + 1
    except csv.Error as exc:
        # The reader cannot resynchronise after malformed quoting, so this ends the file's checks.
        result.error(reader.line_num, f"malformed CSV ({exc})")
    return result
