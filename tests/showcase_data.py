"""Published rounds for the shopper-facing tests: real reports from the real scoring library, stored as
closing a round stores them, so what shoppers are shown is what a round would have published."""

from __future__ import annotations

import random
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta

from bot.domain.runtime import Runtime
from scoring.model import BallotRecord, FactorSpec
from scoring.scorecard import score_round
from storage.models import Round, RoundFactor
from storage.statuses import RoundStatus

SHAMPOO = ("cleanliness", "aroma", "dandruff_control", "conditioning", "moisturizing", "anti_hair_loss")


def report_for(means: Mapping[str, float], n: int = 60, seed: int = 1, spread: float = 0.7) -> dict[str, object]:
    """A published-looking report: `n` honest ballots answering around each factor's mean."""
    rng = random.Random(seed)
    factors = [FactorSpec(k, k.replace("_", " ").title(), f"因素{i}") for i, k in enumerate(means)]
    start = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
    ballots = [
        BallotRecord(ballot=str(i), rater=f"r{i}", started_at=start, submitted_at=start + timedelta(seconds=40 + i % 9),
                     owned_days=30, excluded_by_admin=False,
                     answers={k: min(5, max(1, round(m + rng.gauss(0, spread)))) for k, m in means.items()})
        for i in range(n)
    ]
    return score_round(ballots, factors).to_report(None, "", RoundStatus.PUBLISHED, n * 2)


async def publish(rt: Runtime, sku: str, means: Mapping[str, float], *, closed: datetime, n: int = 60,
                  seed: int = 1, status: RoundStatus = RoundStatus.PUBLISHED) -> int:
    """Stores a closed, published round of `sku` with a report built by `report_for`."""
    report = report_for(means, n=n, seed=seed)
    async with rt.db.session() as s:
        category = "shampoo" if sku.startswith("SHAMPOO") else "face_cream"
        opened = closed - timedelta(days=7)
        rnd = Round(sku=sku, category_key=category, status=status, opens_at=opened, closes_at=closed, quota=500,
                    min_ballots=3, created_by="test", created_at=opened, opened_at=opened, closed_at=closed,
                    published_at=closed, report=report)
        s.add(rnd)
        await s.flush()
        report["round_id"], report["sku"] = rnd.id, sku
        rnd.report = dict(report)
        for position, key in enumerate(means):
            s.add(RoundFactor(round_id=rnd.id, position=position, key=key, label_en=key, label_zh=key,
                              question_en="?", question_zh="？"))
        return rnd.id
