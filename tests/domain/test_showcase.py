"""What shoppers can look up: latest scorecards, history, honest rankings, comparisons and search."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.domain import showcase
from bot.domain.errors import UnknownProduct
from bot.domain.runtime import Runtime
from scoring.ranking import Verdict
from storage.statuses import RoundStatus
from tests.showcase_data import SHAMPOO, publish

GOOD = dict.fromkeys(SHAMPOO, 4.4)
POOR = dict.fromkeys(SHAMPOO, 2.2)


async def test_a_product_shows_its_latest_published_scorecard_and_its_whole_history(rt: Runtime) -> None:
    now = rt.clock.now()
    first = await publish(rt, "SHAMPOO-001", POOR, closed=now - timedelta(days=60))
    second = await publish(rt, "SHAMPOO-001", GOOD, closed=now - timedelta(days=5), seed=2)
    await publish(rt, "SHAMPOO-001", GOOD, closed=now - timedelta(days=1), status=RoundStatus.INSUFFICIENT)
    [card] = await showcase.latest(rt)
    assert card.round_id == second
    assert [c.round_id for c in await showcase.history(rt, "SHAMPOO-001")] == [first, second]
    with pytest.raises(UnknownProduct):
        await showcase.history(rt, "NOPE")


async def test_a_ranking_shows_overlapping_products_as_tied_and_leaves_out_other_factor_sets(rt: Runtime) -> None:
    now = rt.clock.now()
    await publish(rt, "SHAMPOO-001", GOOD, closed=now, seed=1)
    await publish(rt, "SHAMPOO-002", GOOD, closed=now, seed=2)
    await publish(rt, "SHAMPOO-003", POOR, closed=now, seed=3)
    await publish(rt, "SHAMPOO-004", dict.fromkeys(SHAMPOO[:5], 4.0), closed=now, seed=4)  # another factor set
    ranked = await showcase.ranking(rt, "shampoo")
    bands = {p.item.key: (p.best, p.worst) for p in ranked.places}
    assert bands["SHAMPOO-001"] == bands["SHAMPOO-002"] == (1, 2)
    assert bands["SHAMPOO-003"] == (3, 3)
    assert "SHAMPOO-004" not in bands and ranked.left_out == 1


async def test_a_comparison_calls_a_difference_real_only_when_the_intervals_do_not_overlap(rt: Runtime) -> None:
    now = rt.clock.now()
    await publish(rt, "SHAMPOO-001", GOOD | {"aroma": 3.0}, closed=now, seed=1)
    await publish(rt, "SHAMPOO-002", POOR | {"aroma": 3.0}, closed=now, seed=2)
    compared = await showcase.comparison(rt, "SHAMPOO-001", "SHAMPOO-002")
    verdicts = {key: verdict for key, _, _, verdict in compared.factors}
    assert compared.overall is Verdict.HIGHER
    assert verdicts["cleanliness"] is Verdict.HIGHER
    assert verdicts["aroma"] is Verdict.TIED
    with pytest.raises(UnknownProduct):
        await showcase.comparison(rt, "SHAMPOO-001", "SHAMPOO-003")  # never published


async def test_search_finds_scorecards_by_name_sku_category_or_factor_in_either_language(rt: Runtime) -> None:
    await publish(rt, "SHAMPOO-001", GOOD, closed=rt.clock.now())
    for query in ("洗发水", "shampoo", "silkroot", "shampoo-001", "dandruff", "去屑"):
        assert [c.sku for c in await showcase.search(rt, query)] == ["SHAMPOO-001"], query
    assert await showcase.search(rt, "面霜") == []
