"""Hostile store files: every one is refused with `FILE:LINE: what is wrong` and writes nothing; big files
are read as a stream, on a worker thread, a batch at a time, all or nothing per file."""

from __future__ import annotations

import threading
import tracemalloc
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot.domain.storedata import ImportFailed, import_document, import_files
from bot.domain.storedata import csvrows as csvrows_module
from bot.domain.storedata.csvrows import KEPT_ERRORS
from bot.domain.storedata.tables import BATCH
from storage.db import Database
from storage.models import Category, Customer
from tests.conftest import SECRET
from tests.domain.test_storedata import SIX, category_toml

CUSTOMERS_HEADER = "customer_id,phone,last_active_at\n"


async def refused(db: Database, name: str, data: bytes) -> list[str]:
    with pytest.raises(ImportFailed) as failed:
        await import_document(db, name, data, secret=SECRET)
    return failed.value.errors


async def count(db: Database, model: type) -> int:
    async with db.session() as s:
        return (await s.scalar(select(func.count()).select_from(model))) or 0


def customers(n: int, start: int = 0) -> str:
    return "".join(f"H{i:07d},+86138{i:08d},2026-10-25T20:35:00Z\n" for i in range(start, start + n))


async def test_a_nul_byte_in_a_csv_is_a_file_line_error_on_both_databases(db: Database) -> None:
    data = (CUSTOMERS_HEADER + "C1,+8613800000001,\nC2\x00x,+8613800000002,\n").encode()
    assert await refused(db, "customers.csv", data) == [
        "customers.csv:3: contains a NUL character (\\0); the file is damaged or not a CSV"]
    assert await count(db, Customer) == 0


async def test_a_toml_nested_thousands_deep_is_one_clear_line(db: Database) -> None:
    data = ("a = " + "[" * 5000 + "]" * 5000 + "\n").encode()  # 10 KB
    assert await refused(db, "categories.toml", data) == [
        "categories.toml:1: invalid TOML: values nested too deeply"]
    inline = ("a = " + "{b = " * 3000 + "1" + "}" * 3000 + "\n").encode()
    assert await refused(db, "categories.toml", inline) == [
        "categories.toml:1: invalid TOML: values nested too deeply"]


async def test_a_nul_escape_in_a_toml_label_is_refused_at_its_line(db: Database) -> None:
    text = category_toml(SIX).replace('label_en = "noise en"', 'label_en = "noi\\u0000se"')
    errors = await refused(db, "categories.toml", text.encode())
    line = text.splitlines().index('label_en = "noi\\u0000se"') + 1
    assert errors == [f"categories.toml:{line}: factor label_en contains a NUL character (\\u0000)"]
    assert await count(db, Category) == 0


async def test_a_categories_file_over_a_megabyte_is_refused_unparsed(db: Database) -> None:
    data = category_toml(SIX).encode() + b"# padding\n" * 110_000
    assert await refused(db, "categories.toml", data) == [
        "categories.toml:1: a categories file over 1024 KB is not one; nothing was imported"]


async def test_a_bad_row_after_many_batches_writes_nothing_of_the_file(db: Database) -> None:
    rows = 3 * BATCH + 7
    data = (CUSTOMERS_HEADER + customers(rows) + "BAD,not-a-phone,\n").encode()
    assert await refused(db, "customers.csv", data) == [
        f"customers.csv:{rows + 2}: phone is not a valid phone number in CN or with a country code "
        "(e.g. 13800138000 or +86 138 0013 8000)"]
    assert await count(db, Customer) == 0


async def test_a_file_of_many_batches_imports_every_row_once(db: Database) -> None:
    rows = 3 * BATCH + 7
    data = (CUSTOMERS_HEADER + customers(rows)).encode()
    first = await import_document(db, "customers.csv", data, secret=SECRET)
    assert (first.added, first.updated, first.unchanged) == (rows, 0, 0)
    changed = (CUSTOMERS_HEADER + customers(rows).replace("H0000001,+8613800000001", "H0000001,+8613900000001")
               + customers(2, start=rows)).encode()
    again = await import_document(db, "customers.csv", changed, secret=SECRET)
    assert (again.added, again.updated, again.unchanged) == (2, 1, rows - 1)
    assert await count(db, Customer) == rows + 2


async def test_a_duplicate_key_in_a_later_batch_names_the_first_line(db: Database) -> None:
    data = (CUSTOMERS_HEADER + customers(BATCH + 10) + customers(1, start=3)).encode()
    assert await refused(db, "customers.csv", data) == [
        f"customers.csv:{BATCH + 12}: duplicate customer_id 'H0000003' (first on line 5)"]


async def test_a_file_of_nothing_but_errors_keeps_a_bounded_list_and_counts_the_rest(db: Database) -> None:
    lines = KEPT_ERRORS + 500
    with pytest.raises(ImportFailed) as failed:
        await import_document(db, "customers.csv", (CUSTOMERS_HEADER + ",,\n,x,\n" * lines).encode(), secret=SECRET)
    assert len(failed.value.errors) == KEPT_ERRORS and failed.value.more == 2 * lines - KEPT_ERRORS
    assert failed.value.summary().endswith(f"... and {2 * lines - 20} more errors")


async def test_rows_are_checked_on_a_worker_thread_not_the_event_loop(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    threads: set[str] = set()
    batch = csvrows_module.Rows.batch

    def recording(self: csvrows_module.Rows, *args: object) -> object:
        threads.add(threading.current_thread().name)
        return batch(self, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(csvrows_module.Rows, "batch", recording)
    await import_document(db, "customers.csv", (CUSTOMERS_HEADER + customers(10)).encode(), secret=SECRET)
    assert threads and threading.main_thread().name not in threads


async def test_a_big_file_is_read_as_a_stream_not_held_whole(db: Database, tmp_path: Path) -> None:
    """What the import allocates stays far below the file's size: it never holds the file, its rows or
    its records at once (a 25 MB file peaked at 1,181 MB of RSS when it did)."""
    rows = 40_000
    path = tmp_path / "customers.csv"
    path.write_text(CUSTOMERS_HEADER + customers(rows))
    size = path.stat().st_size  # ~1.8 MB
    tracemalloc.start()
    try:
        [result] = await import_files(db, [path], secret=SECRET)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert result.added == rows
    # The keys already seen (for duplicates) are the one thing that grows with the file: ~100 bytes
    # a row. Held whole, the rows alone were ~1 KB a row.
    assert peak < 5 * size, (peak, size)
