"""Reading a store CSV into checked rows: each problem is kept as `FILE:LINE: what is wrong`.

The file is read as a stream, a batch of rows at a time, never whole: a 25 MB customers file held
as bytes, text, row dicts and records at once peaked at 1,181 MB of RSS; read in batches it stays near
the size of one batch (see `bot.domain.storedata.tables.upsert`, which writes each batch).
"""

from __future__ import annotations

import codecs
import csv
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, BinaryIO

from bot.domain.clock import parse_time
from bot.domain.storedata.kinds import CSV_COLUMNS, normal_header
from bot.domain.storedata.results import Invalid, show

_UINT = re.compile(r"^[0-9]+$")
_INT_MAX = 2**31 - 1  # PostgreSQL INTEGER
# Problems kept word for word; beyond these only counted. A hostile file can be all errors, one a
# line, and each kept message costs ~200 bytes: a cap keeps refusing it as cheap as reading it.
KEPT_ERRORS = 1000

# Checks one CSV row (line, column -> value) and returns its record (model attribute -> value), or
# None once its problems are reported on `Rows`.
RowCheck = Callable[["Rows", int, dict[str, str]], dict[str, Any] | None]


@dataclass
class Rows:
    """A CSV file being read: its checked records a batch at a time, and every problem found."""

    name: str
    header: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    more_errors: int = 0  # problems beyond KEPT_ERRORS
    # Natural keys met so far, with the line they were first on.
    seen: dict[str, int] = field(default_factory=dict)
    _reader: Iterator[list[str]] | None = None
    _lines_read: list[int] = field(default_factory=lambda: [0])  # physical lines, shared with the decoder
    _line: int = 1  # where the next row starts

    def error(self, line: int, message: str) -> None:
        if len(self.errors) < KEPT_ERRORS:
            self.errors.append(f"{self.name}:{line}: {message}")
        else:
            self.more_errors += 1

    def check(self) -> None:
        if self.errors:
            raise Invalid(self.errors, self.more_errors)

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

    def batch(self, check: RowCheck, size: int) -> list[dict[str, Any]] | None:
        """The next `size` rows' records that passed `check` (problems go to `errors`); None at the end.

        Blocking and CPU-bound: run it on a worker thread, never on the event loop."""
        if self._reader is None:
            return None
        records: list[dict[str, Any]] = []
        read = 0
        try:
            while read < size:
                cells = next(self._reader, None)
                if cells is None:
                    self._reader = None
                    break
                read += 1
                record = self._row(check, cells)
                if record is not None:
                    records.append(record)
        except csv.Error as exc:
            # The reader cannot resynchronise after malformed quoting, so this ends the file's checks.
            self.error(self._line, f"malformed CSV ({exc})")
            self._reader = None
        except _NotUtf8 as exc:
            self.error(exc.line, "the file is not UTF-8 text; save it as UTF-8")
            self._reader = None
        return records

    def _row(self, check: RowCheck, cells: list[str]) -> dict[str, Any] | None:
        line, self._line = self._line, self._lines_read[0] + 1
        if not any(cell.strip() for cell in cells):
            return None  # blank lines (a trailing newline, a spreadsheet's empty rows) carry nothing
        if any("\x00" in cell for cell in cells):
            # PostgreSQL text cannot hold NUL; no store data has one, so it is refused on both databases.
            self.error(line, "contains a NUL character (\\0); the file is damaged or not a CSV")
            return None
        if len(cells) != len(self.header):
            self.error(line, f"expected {len(self.header)} columns ({','.join(self.header)}), found {len(cells)}")
            return None
        return check(self, line, {col: cell.strip() for col, cell in zip(self.header, cells, strict=True)})


class _NotUtf8(Exception):
    def __init__(self, line: int) -> None:
        self.line = line


def _decoded_lines(source: BinaryIO, counter: list[int]) -> Iterator[str]:
    """The file's lines as text, a line at a time; `counter[0]` is the number of lines read so far.

    Decoding line by line (not through a text wrapper's 8 KB chunks) puts a bad byte on its own line."""
    decoder = codecs.getincrementaldecoder("utf-8-sig")()
    for raw in source:
        counter[0] += 1
        try:
            yield decoder.decode(raw)
        except UnicodeDecodeError:
            raise _NotUtf8(counter[0]) from None
    try:
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        raise _NotUtf8(counter[0]) from None


def read_csv(name: str, source: BinaryIO, kind: str) -> Rows:
    """Starts reading a CSV file of `kind` (its header already told the kind); rows come by `batch`."""
    rows = Rows(name)
    reader = csv.reader(_decoded_lines(source, rows._lines_read), strict=True)
    try:
        rows.header = normal_header(next(reader, []))
    except (csv.Error, _NotUtf8):
        rows.header = list(CSV_COLUMNS[kind])  # the kind was told from this header: it cannot fail here
    rows._line = rows._lines_read[0] + 1
    rows._reader = reader
    return rows
