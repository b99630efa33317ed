"""Small hand-written rounds for the scoring tests (a uniquely named module: tests/ has no packages)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta

from scoring.model import BallotRecord, FactorSpec

T0 = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
KEYS = ("cleanliness", "aroma", "dandruff", "conditioning", "moisturizing", "hair_loss")
LABELS_ZH = ("清洁力", "香味", "去屑", "柔顺", "保湿", "防脱发")

BallotFactory = Callable[..., BallotRecord]


def shampoo_factors() -> list[FactorSpec]:
    return [FactorSpec(k, k.replace("_", " ").title(), zh) for k, zh in zip(KEYS, LABELS_ZH, strict=True)]


def make_ballot(
    ballot: str,
    answers: Mapping[str, int | None] | None = None,
    *,
    seconds: float = 60.0,
    owned_days: int | None = 30,
    excluded_by_admin: bool = False,
    rater: str | None = None,
) -> BallotRecord:
    """A ballot that took `seconds`, answering `answers` (default: a varied, ordinary ballot)."""
    if answers is None:
        answers = dict(zip(KEYS, (4, 3, 4, 5, 3, 4), strict=True))
    return BallotRecord(
        ballot=ballot,
        rater=rater or f"rater-{ballot}",
        started_at=T0,
        submitted_at=T0 + timedelta(seconds=seconds),
        owned_days=owned_days,
        excluded_by_admin=excluded_by_admin,
        answers=dict(answers),
    )


def ordinary_round(n: int, *, seconds: float = 60.0) -> list[BallotRecord]:
    """`n` honest-looking ballots with a little variety, all at the same pace."""
    patterns = [(4, 3, 4, 5, 3, 4), (3, 4, 4, 4, 3, 3), (5, 4, 3, 4, 4, 4), (4, 4, 5, 3, 3, 4)]
    return [
        make_ballot(f"b{i}", dict(zip(KEYS, patterns[i % len(patterns)], strict=True)), seconds=seconds + i % 7)
        for i in range(n)
    ]


def same_answer(value: int | None, keys: tuple[str, ...] = KEYS) -> dict[str, int | None]:
    return dict.fromkeys(keys, value)


def aggregate_all(ballots, factors, method, weights=None, *, round_sufficient=True):
    """`scoring.aggregate.aggregate` of records, every ballot counted with `weights` (default 1 each)."""
    import numpy as np

    from scoring.aggregate import aggregate
    from scoring.matrix import BallotMatrix

    m = BallotMatrix.from_records(ballots, [f.key for f in factors])
    w = np.ones(len(ballots)) if weights is None else np.asarray(weights, dtype=float)
    u = np.where(np.isfinite(m.values), w[:, None], 0.0)
    return aggregate(m.values, m.present, u, np.ones(len(ballots), bool), factors, method,
                     round_sufficient=round_sufficient)
