"""A site built from a database with three published products over several rounds."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from bot.domain.runtime import Runtime
from bot.site import SiteSummary, build_site
from tests.showcase_data import SHAMPOO, publish


async def publish_three_products(rt: Runtime) -> None:
    now = rt.clock.now()
    await publish(rt, "SHAMPOO-001", dict.fromkeys(SHAMPOO, 3.6), closed=now - timedelta(days=90), seed=1)
    await publish(rt, "SHAMPOO-001", dict.fromkeys(SHAMPOO, 4.3) | {"aroma": 3.1}, closed=now - timedelta(days=3),
                  seed=2)
    await publish(rt, "SHAMPOO-002", dict.fromkeys(SHAMPOO, 4.25), closed=now - timedelta(days=2), seed=3)
    await publish(rt, "FACECREAM-001", {"hydration": 4.5, "absorption": 3.9, "texture": 4.1, "gentleness": 4.6,
                                        "scent": 3.4, "value_for_money": 3.8}, closed=now - timedelta(days=1), seed=4)


@pytest.fixture
async def site(rt: Runtime, tmp_path: Path) -> SiteSummary:
    await publish_three_products(rt)
    return await build_site(rt, tmp_path / "site")
