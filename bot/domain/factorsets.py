"""A category's factor set versions: which of its factors and candidates rounds rate.

Version 1 is what categories.toml declares (its factors without `candidate = true`); each adopted
research result adds the next version, and an import that changes the declared factors adds one too.
A round freezes the latest version when it opens (`Round.factor_set`), so a round already open keeps
the factors it started with, and a factor's prior comes only from earlier rounds that rated that
factor (`bot.domain.scorecards.factor_specs` matches reports by factor key).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Category, Factor, FactorSet
from storage.statuses import FactorSetSource

MIN_FACTORS, MAX_FACTORS = 5, 10


@dataclass(frozen=True)
class Version:
    """A category's factor set version and its factors, in the order raters are asked."""

    category_key: str
    version: int
    factors: list[Factor]
    source: FactorSetSource

    @property
    def keys(self) -> list[str]:
        return [f.key for f in self.factors]


async def latest(s: AsyncSession, category_key: str) -> FactorSet | None:
    return await s.scalar(
        select(FactorSet).where(FactorSet.category_key == category_key).order_by(FactorSet.version.desc()).limit(1)
    )


async def current(s: AsyncSession, category_key: str) -> Version:
    """The version new rounds of the category rate; version 1 (the declared factors) if none was written."""
    found = await latest(s, category_key)
    factors = list(await s.scalars(
        select(Factor).where(Factor.category_key == category_key).order_by(Factor.position)
    ))
    if found is None:
        return Version(category_key, 1, [f for f in factors if not f.candidate], FactorSetSource.IMPORT)
    by_key = {f.key: f for f in factors}
    # An import refuses to drop a factor of the latest version, so every key is found.
    return Version(category_key, found.version, [by_key[k] for k in found.keys if k in by_key], found.source)


async def add_version(s: AsyncSession, category_key: str, keys: list[str], *, source: FactorSetSource,
                      at: datetime, by: str, research_round_id: int | None = None) -> int:
    """Writes the category's next version; its number. The unique (category, version) makes two
    concurrent adoptions fail rather than both become version N."""
    top = await s.scalar(select(func.max(FactorSet.version)).where(FactorSet.category_key == category_key))
    version = (top or 0) + 1
    s.add(FactorSet(category_key=category_key, version=version, keys=list(keys), source=source,
                    research_round_id=research_round_id, created_at=at, created_by=by))
    await s.flush()
    return version


async def record_import(s: AsyncSession, category_key: str, declared: list[str], at: datetime) -> int | None:
    """After an import: a new version when the declared factors differ from what the last import
    declared (version 1 the first time); None when nothing changed."""
    last_import = await s.scalar(
        select(FactorSet.keys).where(FactorSet.category_key == category_key, FactorSet.source == FactorSetSource.IMPORT)
        .order_by(FactorSet.version.desc()).limit(1)
    )
    if last_import is not None and list(last_import) == declared:
        return None
    return await add_version(s, category_key, declared, source=FactorSetSource.IMPORT, at=at, by="import")


async def all_current(s: AsyncSession) -> list[Version]:
    """Every category's current version, by category key."""
    keys = list(await s.scalars(select(Category.key).order_by(Category.key)))
    return [await current(s, k) for k in keys]
