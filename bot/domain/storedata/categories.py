"""categories.toml: the categories, their factors and research candidates, checked field by field
with line numbers.

A category's factors are replaced as a whole when any of them changes; rounds copy their factors when
they open, so replacing the list never alters a round. The factors without `candidate = true` are the
category's declared factor set (5–10): version 1, or a new version when they change
(`bot.domain.factorsets`). A factor rated by the category's current version may not be dropped.
"""

from __future__ import annotations

import asyncio
import re
import tomllib
from collections.abc import Callable
from datetime import UTC, datetime
from functools import partial
from typing import Any, BinaryIO

from sqlalchemy import delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain import factorsets
from bot.domain.factorsets import MAX_FACTORS, MIN_FACTORS
from bot.domain.storedata.kinds import decode
from bot.domain.storedata.results import ImportResult, Invalid, show
from storage.models import Category, Factor
from storage.statuses import FactorSetSource

# Candidates and factors together: a research round shows each in about 2.4 of a buyer's 24 places at
# 10; at 20 a buyer sees each barely once, too little to rank them with a few hundred buyers.
MAX_CANDIDATES = 20

_KEY = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
_CATEGORY_FIELDS = {"key": 64, "name_en": 200, "name_zh": 200}
_FACTOR_FIELDS = {"key": 64, "label_en": 200, "label_zh": 200, "question_en": 500, "question_zh": 500}


class _TomlLines:
    """Best-effort line numbers for TOML values: tomllib keeps none, so the text is scanned."""

    _CATEGORY = re.compile(r"^\s*\[\[\s*category\s*\]\]")
    _FACTOR = re.compile(r"^\s*\[\[\s*category\s*\.\s*factor\s*\]\]")

    def __init__(self, text: str) -> None:
        self.lines = text.splitlines()
        self.categories: list[int] = []
        self.factors: list[list[int]] = []
        for number, line in enumerate(self.lines, start=1):
            if self._CATEGORY.match(line):
                self.categories.append(number)
                self.factors.append([])
            elif self._FACTOR.match(line) and self.factors:
                self.factors[-1].append(number)

    def line(self, category: int, factor: int | None = None, field: str | None = None) -> int:
        if category >= len(self.categories):
            return 1
        start = self.categories[category]
        ends = [*self.factors[category], *self.categories[category + 1 : category + 2]]
        if factor is not None:
            if factor >= len(self.factors[category]):
                return start
            start = self.factors[category][factor]
            ends = [
                *self.factors[category][factor + 1 : factor + 2],
                *self.categories[category + 1 : category + 2],
            ]
        if field is None:
            return start
        end = min(ends, default=len(self.lines) + 1)
        assign = re.compile(rf"^\s*[\"']?{re.escape(field)}[\"']?\s*=")
        for number in range(start + 1, end):
            if assign.match(self.lines[number - 1]):
                return number
        return start


def _parse_toml(name: str, text: str) -> dict[str, Any]:
    try:
        return tomllib.loads(text)
    except RecursionError:
        # tomllib parses nested arrays and inline tables recursively: 10 KB of "a = [[[[…" is enough.
        raise Invalid([f"{name}:1: invalid TOML: values nested too deeply"]) from None
    except tomllib.TOMLDecodeError as exc:
        found = re.search(r"\(at line (\d+), column \d+\)", str(exc))
        line = found.group(1) if found else "1"
        message = re.sub(r"\s*\(at (line \d+, column \d+|end of document)\)", "", str(exc))
        raise Invalid([f"{name}:{line}: invalid TOML: {message}"]) from None


_FactorValues = tuple[str, str, str, str, str, bool]  # the _FACTOR_FIELDS, then `candidate`
_CategoryValues = tuple[str, str, list[_FactorValues]]


def _check_table(
    errors: list[str],
    where: Callable[[str | None], int],
    name: str,
    table: Any,
    fields: dict[str, int],
    what: str,
) -> dict[str, str] | None:
    if not isinstance(table, dict):
        errors.append(f"{name}:{where(None)}: each {what} must be a table")
        return None
    ok = True
    allowed = set(fields) | ({"factor"} if what == "category" else {"candidate"})
    for unknown in sorted(set(table) - allowed):
        errors.append(f"{name}:{where(unknown)}: unknown {what} field {show(unknown)}")
        ok = False
    values: dict[str, str] = {}
    for field, limit in fields.items():
        value = table.get(field)
        if not isinstance(value, str) or not value.strip():
            errors.append(f"{name}:{where(field)}: {what} {field} must be a non-empty string")
            ok = False
        elif "\x00" in value:  # a "\u0000" escape: PostgreSQL text cannot hold it
            errors.append(f"{name}:{where(field)}: {what} {field} contains a NUL character (\\u0000)")
            ok = False
        elif len(value.strip()) > limit:
            errors.append(f"{name}:{where(field)}: {what} {field} is longer than {limit} characters")
            ok = False
        else:
            values[field] = value.strip()
    if "candidate" in table and not isinstance(table["candidate"], bool):
        errors.append(f"{name}:{where('candidate')}: candidate must be true or false")
        ok = False
    key = values.get("key")
    if key is not None and not _KEY.match(key):
        errors.append(
            f"{name}:{where('key')}: {what} key {show(key)} must be ascii snake_case ([a-z][a-z0-9_]*)"
        )
        ok = False
    return values if ok else None


def _check_categories(name: str, text: str) -> dict[str, _CategoryValues]:
    document = _parse_toml(name, text)
    lines = _TomlLines(text)
    errors: list[str] = []
    for unknown in sorted(set(document) - {"category"}):
        errors.append(f"{name}:1: unknown top-level key {show(unknown)}; expected [[category]] tables")
    categories = document.get("category")
    if not isinstance(categories, list) or not categories:
        errors.append(f"{name}:1: no [[category]] tables found")
        raise Invalid(errors)

    parsed: dict[str, _CategoryValues] = {}
    first_line: dict[str, int] = {}
    for c, table in enumerate(categories):
        head = _check_table(errors, partial(lines.line, c, None), name, table, _CATEGORY_FIELDS, "category")
        factors_raw = table.get("factor") if isinstance(table, dict) else None
        if not isinstance(factors_raw, list):
            errors.append(f"{name}:{lines.line(c)}: category has no [[category.factor]] tables")
            continue
        declared = sum(1 for f in factors_raw if not (isinstance(f, dict) and f.get("candidate") is True))
        if not MIN_FACTORS <= declared <= MAX_FACTORS:
            besides = len(factors_raw) - declared
            errors.append(
                f"{name}:{lines.line(c)}: a category needs {MIN_FACTORS} to {MAX_FACTORS} factors, "
                f"found {declared}" + (f" (and {besides} candidates)" if besides else "")
            )
        if len(factors_raw) > MAX_CANDIDATES:
            errors.append(f"{name}:{lines.line(c)}: a category has at most {MAX_CANDIDATES} factors and candidates "
                          f"together, found {len(factors_raw)}")
        factors: list[_FactorValues] = []
        factor_lines: dict[str, int] = {}
        for f, factor_table in enumerate(factors_raw):
            values = _check_table(
                errors, partial(lines.line, c, f), name, factor_table, _FACTOR_FIELDS, "factor"
            )
            if values is None:
                continue
            key = values["key"]
            if key in factor_lines:
                errors.append(
                    f"{name}:{lines.line(c, f, 'key')}: duplicate factor key {show(key)} "
                    f"(first on line {factor_lines[key]})"
                )
                continue
            factor_lines[key] = lines.line(c, f, "key")
            factors.append((*(values[field] for field in _FACTOR_FIELDS), factor_table.get("candidate") is True))  # type: ignore[arg-type]
        if head is None:
            continue
        if head["key"] in first_line:
            errors.append(
                f"{name}:{lines.line(c, None, 'key')}: duplicate category key {show(head['key'])} "
                f"(first on line {first_line[head['key']]})"
            )
            continue
        first_line[head["key"]] = lines.line(c, None, "key")
        parsed[head["key"]] = (head["name_en"], head["name_zh"], factors)
    if errors:
        raise Invalid(errors)
    return parsed


# A categories file is a few kilobytes (the sample's two categories: 3 KB); it is parsed whole, so a
# bigger one is refused before it is read rather than parsed into memory.
MAX_CATEGORIES_BYTES = 1024 * 1024


async def import_categories(session: AsyncSession, name: str, source: BinaryIO, secret: str) -> ImportResult:
    data = await asyncio.to_thread(source.read, MAX_CATEGORIES_BYTES + 1)
    if len(data) > MAX_CATEGORIES_BYTES:
        raise Invalid([f"{name}:1: a categories file over {MAX_CATEGORIES_BYTES // 1024} KB is not one; "
                       "nothing was imported"])
    # Parsing and checking is CPU the event loop must not spend while buyers tap: a worker thread's.
    text = decode(name, data)
    parsed = await asyncio.to_thread(_check_categories, name, text)
    names = {
        key: (name_en, name_zh)
        for key, name_en, name_zh in await session.execute(
            select(Category.key, Category.name_en, Category.name_zh)
        )
    }
    factors: dict[str, list[_FactorValues]] = {}
    for category_key, *values in await session.execute(
        select(
            Factor.category_key,
            Factor.key,
            Factor.label_en,
            Factor.label_zh,
            Factor.question_en,
            Factor.question_zh,
            Factor.candidate,
        ).order_by(Factor.category_key, Factor.position)
    ):
        factors.setdefault(category_key, []).append(tuple(values))  # type: ignore[arg-type]

    await _keep_rated_factors(session, name, text, parsed)
    added = updated = unchanged = 0
    new_factors: list[dict[str, Any]] = []
    declared: dict[str, list[str]] = {}
    for key, (name_en, name_zh, factor_rows) in parsed.items():
        old_names = names.get(key)
        if old_names == (name_en, name_zh) and factors.get(key, []) == factor_rows:
            unchanged += 1
            continue
        if old_names is None:
            added += 1
            await session.execute(insert(Category), [{"key": key, "name_en": name_en, "name_zh": name_zh}])
        else:
            updated += 1
            await session.execute(
                update(Category).where(Category.key == key).values(name_en=name_en, name_zh=name_zh)
            )
            # Rounds copy their factors when they open, so replacing the list never alters a round.
            await session.execute(delete(Factor).where(Factor.category_key == key))
        new_factors += [
            {"category_key": key, "position": position, **dict(zip([*_FACTOR_FIELDS, "candidate"], row, strict=True))}
            for position, row in enumerate(factor_rows)
        ]
        declared[key] = [row[0] for row in factor_rows if not row[5]]
    if new_factors:
        await session.execute(insert(Factor), new_factors)
    now = datetime.now(UTC)  # imports take no clock: the version's time is only shown, never compared
    for key, keys in declared.items():
        await factorsets.record_import(session, key, keys, now)
    return ImportResult(name, "categories", added, updated, unchanged)


async def _keep_rated_factors(session: AsyncSession, name: str, text: str, parsed: dict[str, _CategoryValues]) -> None:
    """Refuses to drop a factor the category's current factor set rates (an adopted research result)."""
    lines = _TomlLines(text)
    errors = []
    for c, (key, (_en, _zh, rows)) in enumerate(parsed.items()):
        version = await factorsets.latest(session, key)
        # A declared set that changes makes a version of its own; only an adopted one must be kept.
        if version is None or version.source != FactorSetSource.RESEARCH:
            continue
        missing = [k for k in version.keys if k not in {row[0] for row in rows}]
        if missing:
            errors.append(f"{name}:{lines.line(c)}: category {show(key)} rates {', '.join(map(show, missing))} in "
                          f"factor set v{version.version}; keep them in the file (as candidates if you like)")
    if errors:
        raise Invalid(errors)
