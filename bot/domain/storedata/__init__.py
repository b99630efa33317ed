"""Loading the store's data: `redheart import FILE...` and documents sent to the bot.

Each file is all or nothing: every row is parsed and checked first, every problem is reported as
`FILE:LINE: what is wrong`, and the file is written in one transaction only when it has none.
Rows are upserted by their natural key, so importing the same file twice changes nothing.

Files of one call are imported in dependency order (categories, products, customers, purchases),
so a file may refer to rows of an earlier file of the same call; a failing file does not stop the
others, and `ImportFailed` reports the failures together with what did get imported.

The kind of a file is told by `kinds`; CSV rows are read and checked by `csvrows` and written by
`tables`; categories TOML is `categories`.
"""

from __future__ import annotations

import io
from collections.abc import Awaitable, Callable, Iterable, Sequence
from functools import partial
from pathlib import Path
from typing import BinaryIO

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.storedata.categories import import_categories
from bot.domain.storedata.kinds import CSV_COLUMNS, KIND_ORDER, detect_kind, head_text
from bot.domain.storedata.results import ImportFailed, ImportResult, Invalid
from bot.domain.storedata.tables import CUSTOMERS, PRODUCTS, PURCHASES, upsert
from storage.db import Database

__all__ = ["CSV_COLUMNS", "KIND_ORDER", "ImportFailed", "ImportResult", "detect_kind", "import_document",
           "import_files"]

_Importer = Callable[[AsyncSession, str, BinaryIO, str], Awaitable[ImportResult]]
_IMPORTERS: dict[str, _Importer] = {
    "categories": import_categories,
    "products": partial(upsert, PRODUCTS),
    "customers": partial(upsert, CUSTOMERS),
    "purchases": partial(upsert, PURCHASES),
}
# A file to import: its name, and how to open it (read as a stream, never whole: see csvrows).
_Source = tuple[str, Callable[[], BinaryIO]]


async def import_files(db: Database, paths: Sequence[str | Path], *, secret: str) -> list[ImportResult]:
    """Imports the files in dependency order, each in its own transaction; ImportFailed if any failed."""
    return await _import_all(db, [(str(path), _opener(Path(path))) for path in paths], secret=secret)


def _opener(path: Path) -> Callable[[], BinaryIO]:
    return lambda: path.open("rb")


async def import_document(db: Database, filename: str, data: bytes, *, secret: str) -> ImportResult:
    """Imports one file received as bytes (a document sent to the bot); raises ImportFailed."""
    (result,) = await _import_all(db, [(filename, partial(io.BytesIO, data))], secret=secret)
    return result


async def _import_all(db: Database, sources: Iterable[_Source], *, secret: str) -> list[ImportResult]:
    ready: list[tuple[str, str, Callable[[], BinaryIO]]] = []  # (name, kind, opener)
    errors: list[str] = []
    more = 0
    for name, opener in sources:
        try:
            with opener() as file:
                head = file.read(HEAD_BYTES)
            ready.append((name, detect_kind(name, head_text(name, head)), opener))
        except OSError as exc:
            errors.append(f"{name}: cannot read the file ({exc.strerror or exc})")
        except ImportFailed as exc:
            errors.extend(exc.errors)
    ready.sort(key=lambda item: KIND_ORDER.index(item[1]))  # stable: same kinds keep argument order

    results: list[ImportResult] = []
    for name, kind, opener in ready:
        try:
            results.append(await _import_one(db, name, kind, opener, secret))
        except ImportFailed as exc:
            errors.extend(exc.errors)
            more += exc.more
        except OSError as exc:
            errors.append(f"{name}: cannot read the file ({exc.strerror or exc})")
    if errors:
        raise ImportFailed(errors, results, more)
    return results


# What the kind is told from: the header row (or, for TOML, the first lines); a longer first line is
# no header of ours.
HEAD_BYTES = 64 * 1024


async def _import_one(db: Database, name: str, kind: str, opener: Callable[[], BinaryIO], secret: str) -> ImportResult:
    try:
        with opener() as file:
            async with db.session() as session:
                return await _IMPORTERS[kind](session, name, file, secret)
    except Invalid as exc:
        raise ImportFailed(exc.errors, more=exc.more) from None
    except IntegrityError:
        # Only a concurrent writer can get here: every reference was checked inside this transaction.
        raise ImportFailed(
            [f"{name}: the database changed while importing (a concurrent import?); nothing was written"]
        ) from None
