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

from collections.abc import Awaitable, Callable, Iterable, Sequence
from functools import partial
from pathlib import Path

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.phones import DEFAULT_REGION
from bot.domain.storedata.categories import import_categories
from bot.domain.storedata.kinds import CSV_COLUMNS, KIND_ORDER, decode, detect_kind
from bot.domain.storedata.results import ImportFailed, ImportResult, Invalid
from bot.domain.storedata.tables import CUSTOMERS, PRODUCTS, PURCHASES, upsert
from storage.db import Database

__all__ = ["CSV_COLUMNS", "KIND_ORDER", "ImportFailed", "ImportResult", "detect_kind", "import_document",
           "import_files"]

# (session, file name, text, identity.secret, identity.default_region)
_Importer = Callable[[AsyncSession, str, str, str, str], Awaitable[ImportResult]]
_IMPORTERS: dict[str, _Importer] = {
    "categories": lambda session, name, text, secret, _region: import_categories(session, name, text, secret),
    "products": partial(upsert, PRODUCTS),
    "customers": partial(upsert, CUSTOMERS),
    "purchases": partial(upsert, PURCHASES),
}


async def import_files(
    db: Database, paths: Sequence[str | Path], *, secret: str, region: str = DEFAULT_REGION
) -> list[ImportResult]:
    """Imports the files in dependency order, each in its own transaction; ImportFailed if any failed."""
    sources: list[tuple[str, bytes]] = []
    errors: list[str] = []
    for path in paths:
        name = str(path)
        try:
            sources.append((name, Path(path).read_bytes()))
        except OSError as exc:
            errors.append(f"{name}: cannot read the file ({exc.strerror or exc})")
    return await _import_all(db, sources, secret=secret, region=region, errors=errors)


async def import_document(
    db: Database, filename: str, data: bytes, *, secret: str, region: str = DEFAULT_REGION
) -> ImportResult:
    """Imports one file received as bytes (a document sent to the bot); raises ImportFailed."""
    (result,) = await _import_all(db, [(filename, data)], secret=secret, region=region, errors=[])
    return result


async def _import_all(
    db: Database, sources: Iterable[tuple[str, bytes]], *, secret: str, region: str, errors: list[str]
) -> list[ImportResult]:
    ready: list[tuple[str, str, str]] = []  # (name, kind, text)
    for name, data in sources:
        try:
            text = decode(name, data)
            ready.append((name, detect_kind(name, text), text))
        except ImportFailed as exc:
            errors.extend(exc.errors)
    ready.sort(key=lambda item: KIND_ORDER.index(item[1]))  # stable: same kinds keep argument order

    results: list[ImportResult] = []
    for name, kind, text in ready:
        try:
            results.append(await _import_one(db, name, kind, text, secret, region))
        except ImportFailed as exc:
            errors.extend(exc.errors)
    if errors:
        raise ImportFailed(errors, results)
    return results


async def _import_one(db: Database, name: str, kind: str, text: str, secret: str, region: str) -> ImportResult:
    try:
        async with db.session() as session:
            return await _IMPORTERS[kind](session, name, text, secret, region)
    except Invalid as exc:
        raise ImportFailed(exc.errors) from None
    except IntegrityError:
        # Only a concurrent writer can get here: every reference was checked inside this transaction.
        raise ImportFailed(
            [f"{name}: the database changed while importing (a concurrent import?); nothing was written"]
        ) from None
