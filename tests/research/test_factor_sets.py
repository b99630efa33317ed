"""Candidate factors in categories.toml, and the factor set versions imports write."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.domain import factorsets
from bot.domain.storedata import ImportFailed, import_document
from storage.db import Database
from storage.statuses import FactorSetSource
from tests.domain.test_storedata import SECRET, SIX, category_toml

CANDIDATES = ["lid", "price"]


def with_candidates(keys: list[str], candidates: list[str]) -> str:
    text = category_toml([*keys, *candidates])
    for key in candidates:
        text = text.replace(f'key = "{key}"\n', f'key = "{key}"\ncandidate = true\n')
    return text


async def current(db: Database, category: str = "kettle") -> factorsets.Version:
    async with db.session() as s:
        return await factorsets.current(s, category)


async def test_the_declared_factors_are_version_1_and_candidates_are_not_rated(db: Database) -> None:
    await import_document(db, "kettle.toml", with_candidates(SIX, CANDIDATES).encode(), secret=SECRET)

    version = await current(db)
    assert (version.version, version.keys, version.source) == (1, SIX, FactorSetSource.IMPORT)


async def test_candidates_do_not_count_toward_the_five_to_ten_factors(db: Database) -> None:
    text = with_candidates(SIX[:4], ["lid", "price", "weight"])
    with pytest.raises(ImportFailed) as failed:
        await import_document(db, "kettle.toml", text.encode(), secret=SECRET)
    assert failed.value.errors == ["kettle.toml:1: a category needs 5 to 10 factors, found 4 (and 3 candidates)"]


async def test_a_candidate_flag_that_is_not_true_or_false_is_reported_at_its_line(db: Database) -> None:
    text = category_toml([*SIX, "lid"]).replace('key = "lid"\n', 'key = "lid"\ncandidate = "yes"\n')
    line = text.splitlines().index('candidate = "yes"') + 1
    with pytest.raises(ImportFailed) as failed:
        await import_document(db, "kettle.toml", text.encode(), secret=SECRET)
    assert failed.value.errors == [f"kettle.toml:{line}: candidate must be true or false"]


async def test_reimporting_the_same_declared_factors_adds_no_version_and_changing_them_adds_one(
    db: Database,
) -> None:
    await import_document(db, "kettle.toml", with_candidates(SIX, CANDIDATES).encode(), secret=SECRET)
    relabelled = with_candidates(SIX, CANDIDATES).replace('label_en = "noise en"', 'label_en = "Quietness"')
    await import_document(db, "kettle.toml", relabelled.encode(), secret=SECRET)
    assert (await current(db)).version == 1
    assert next(f for f in (await current(db)).factors if f.key == "noise").label_en == "Quietness"

    await import_document(db, "kettle.toml", with_candidates(SIX[:5], ["handle_x"]).encode(), secret=SECRET)
    assert ((await current(db)).version, (await current(db)).keys) == (2, SIX[:5])


async def test_an_import_may_not_drop_a_factor_an_adopted_factor_set_rates(db: Database) -> None:
    await import_document(db, "kettle.toml", with_candidates(SIX, CANDIDATES).encode(), secret=SECRET)
    async with db.session() as s:
        await factorsets.add_version(s, "kettle", ["lid", "price", "speed", "noise", "safety"],
                                     source=FactorSetSource.RESEARCH, at=datetime.now(UTC), by="test")
    with pytest.raises(ImportFailed) as failed:
        await import_document(db, "kettle.toml", category_toml(SIX).encode(), secret=SECRET)
    assert failed.value.errors == [
        "kettle.toml:1: category 'kettle' rates 'lid', 'price' in factor set v2; keep them in the file "
        "(as candidates if you like)"
    ]
    assert (await current(db)).keys == ["lid", "price", "speed", "noise", "safety"]
