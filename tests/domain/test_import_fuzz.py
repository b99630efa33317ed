"""Property-based fuzzing of the store-data readers against a real database (SQLite, and PostgreSQL when
configured): whatever the file holds, an import either succeeds or is refused with the project's own
`ImportFailed`, every problem one line `FILE:LINE: what is wrong` (or `FILE: …` for the whole file)."""

from __future__ import annotations

import re

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.domain.runtime import Runtime
from bot.domain.storedata import CSV_COLUMNS, ImportFailed, import_document
from tests.conftest import SECRET

FUZZ = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])

# Values that have broken importers before, mixed into random text: NUL, quotes and newlines, numbers
# beyond 32 bits, Unicode digits, dates out of range, keys that exist in the sample data.
NASTY = st.sampled_from([
    "", "\x00", '"', '""', "\n", "\r", "\r\n", ",", "99999999999", "-1", "²", "١٢", "1e9", "9999-12-31T23:59:59Z",
    "0001-01-01T00:00:00Z", "2026-13-45T99:99:99Z", "+8613806105001", "shampoo", "SHAMPOO-001", "C0001",
    "paid", "refunded", "  ", "\ufeff", "\u2028", "x" * 400, "<b>&", "\udcff".encode("utf-8", "surrogatepass")
    .decode("utf-8", "replace"),
])
CELL = st.one_of(NASTY, st.text(max_size=30))
NAMES = st.sampled_from(["products.csv", "customers.csv", "purchases.csv", "data.csv", "categories.toml",
                         "x.TOML", "noext"])


def csv_text(kind: str, rows: list[list[str]]) -> str:
    return ",".join(CSV_COLUMNS[kind]) + "\n" + "".join(",".join(row) + "\n" for row in rows)


# A valid row of each kind (over the sample data), which the fuzzer spoils a cell or two at a time: a
# file must be valid but for one value to reach the database, where NUL broke PostgreSQL.
VALID = {
    "products": lambda n: [f"FZ-{n}", "Fuzz shampoo", "shampoo", "10", "20"],
    "customers": lambda n: [f"FZC{n}", f"+861380000{n:04d}", "2026-10-25T20:35:00Z"],
    "purchases": lambda n: [f"FZO{n}", "C0001", "SHAMPOO-001", "2026-01-04T11:10:00Z", "paid"],
}


@st.composite
def csv_rows(draw: st.DrawFn, kind: str, n: int) -> list[str]:
    row = VALID[kind](n)
    if draw(st.integers(0, 9)) == 0:  # now and then a row of the wrong width
        return draw(st.lists(CELL, min_size=len(row) - 1, max_size=len(row) + 1))
    for _ in range(draw(st.integers(0, 2))):
        row[draw(st.integers(0, len(row) - 1))] = draw(CELL)
    return row


@st.composite
def csv_files(draw: st.DrawFn) -> tuple[str, bytes]:
    kind = draw(st.sampled_from(sorted(CSV_COLUMNS)))
    rows = [draw(csv_rows(kind, n)) for n in range(draw(st.integers(0, 6)))]
    return f"{kind}.csv", csv_text(kind, rows).encode("utf-8", "surrogatepass")


@st.composite
def toml_files(draw: st.DrawFn) -> tuple[str, bytes]:
    pieces = st.one_of(
        st.sampled_from(["[[category]]\n", "[[category.factor]]\n", 'key = "k"\n', "key = 1\n", 'name_en = "N"\n',
                         'label_zh = "标"\n', 'question_en = "\\u0000"\n', "factor = []\n", "a = [[[[1]]]]\n",
                         "x = {y = {z = 1}}\n", "[category]\n", '"k\\u0000" = 2\n', "key = 'a'\n", "= =\n"]),
        st.text(max_size=20).map(lambda text: f'key = "{text}"\n'),
    )
    return draw(st.sampled_from(["categories.toml", "c.txt"])), "".join(draw(st.lists(pieces, max_size=25))).encode()


def assert_clear(name: str, error: ImportFailed) -> None:
    assert error.errors, "refused without saying why"
    for line in error.errors:
        assert re.match(rf"^{re.escape(name)}(:\d+)?: \S", line), line
        assert "\n" not in line and "Traceback" not in line, line


async def import_or_refuse(rt: Runtime, name: str, data: bytes) -> None:
    try:
        await import_document(rt.db, name, data, secret=SECRET)
    except ImportFailed as refused:
        assert_clear(name, refused)


@FUZZ
@given(file=csv_files())
async def test_any_csv_imports_or_is_refused_with_file_line_errors(rt: Runtime, file: tuple[str, bytes]) -> None:
    await import_or_refuse(rt, *file)


@FUZZ
@given(file=toml_files())
async def test_any_categories_toml_imports_or_is_refused_with_file_line_errors(
    rt: Runtime, file: tuple[str, bytes]
) -> None:
    await import_or_refuse(rt, *file)


@FUZZ
@given(name=NAMES, data=st.binary(max_size=300))
async def test_any_bytes_under_any_name_are_imported_or_refused_clearly(rt: Runtime, name: str, data: bytes) -> None:
    await import_or_refuse(rt, name, data)
