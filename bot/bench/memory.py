"""Memory: the bot process's RSS when it has just started (idle: nothing done yet), and with many
ballots in progress.

Idle is what the process costs before any work: its imports, mostly. What only some commands need is
imported when first needed — matplotlib (~30 MB with PIL) by the first chart drawn, Jinja2 by the
first site build, aiohttp when `[metrics]` is served, the sandbox and the bench by their commands — so
a bot sits at ~96 MB idle instead of 137 MB. numpy (closing a round scores with it) and alembic
(start-up migrates) stay."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, insert, select

from bot.bench.child import ChildBot
from bot.bench.driver import choose_ballot_button, drive, invite_users
from bot.bench.fixtures import SECRET, bench_config, bench_database, chunks, seed_raters
from bot.domain.ballots import rater_pseudonym
from bot.domain.clock import SystemClock
from bot.domain.runtime import Runtime
from bot.sandbox import BotApiSandbox
from storage.models import AccountLink, Ballot, RoundFactor
from storage.statuses import BallotStatus


async def run_memory(open_ballots: int = 10_000, tapped: int = 1_000, concurrency: int = 50,
                     pg_url: str | None = None) -> dict[str, Any]:
    """`open_ballots` raters with a ballot in progress — most written straight to the database, `tapped`
    of them opened through the bot (Rate now and two answers) — and the bot process's RSS."""
    tapped = min(tapped, open_ballots)
    async with bench_database(pg_url) as (db, url), BotApiSandbox(settle=0.0) as sandbox:
        rt = Runtime(db, bench_config(url, sandbox.token, sandbox.base_url), SystemClock())
        round_id, user_ids = await seed_raters(rt, open_ballots)
        await _open_ballots_directly(rt, round_id, user_ids[tapped:])
        child = ChildBot({"kind": "ours", "database_url": url, "token": sandbox.token, "base_url": sandbox.base_url})
        try:
            idle = await child.status(None)  # printed once the bot is up, before any update
            users = invite_users(sandbox, user_ids[:tapped], round_id)
            warm, rest = users[:50], users[50:]
            await drive(sandbox, warm, choose_ballot_button, taps_per_user=3, concurrency=concurrency)
            before = await child.status()
            load = await drive(sandbox, rest, choose_ballot_button, taps_per_user=3, concurrency=concurrency)
            after = await child.status()
        finally:
            await child.stop()
        async with db.session() as s:
            in_progress = await s.scalar(select(func.count()).select_from(Ballot).where(
                Ballot.round_id == round_id, Ballot.status == BallotStatus.IN_PROGRESS))
    growth = (after["VmRSS"] - before["VmRSS"]) * 1024 / max(1, len(rest))
    return {
        "open_ballots": in_progress, "opened_through_bot": tapped, "taps": load.taps + 3 * len(warm),
        "errors": len(load.errors), "idle_rss_mb": round(idle["VmRSS"] / 1024, 1),
        "over_idle_mb": round((after["VmRSS"] - idle["VmRSS"]) / 1024, 1),
        "rss_mb_before": round(before["VmRSS"] / 1024, 1),
        "rss_mb_after": round(after["VmRSS"] / 1024, 1), "peak_rss_mb": round(after["VmHWM"] / 1024, 1),
        "growth_bytes_per_open_ballot": round(growth),
    }


async def _open_ballots_directly(rt: Runtime, round_id: int, user_ids: list[int]) -> None:
    """In-progress ballots as `ballots.begin` and two answers leave them, written in bulk."""
    now = rt.clock.now()
    async with rt.db.session() as s:
        links = dict((await s.execute(select(AccountLink.telegram_user_id, AccountLink.customer_id))).all())
        keys = list(await s.scalars(select(RoundFactor.key).where(RoundFactor.round_id == round_id)
                                    .order_by(RoundFactor.position)))
    for chunk in chunks(user_ids, 5_000):
        async with rt.db.session() as s:
            await s.execute(insert(Ballot), [
                {"round_id": round_id, "customer_id": links[u], "telegram_user_id": u, "chat_id": u,
                 "rater": rater_pseudonym(SECRET, round_id, links[u]), "step": 2, "rev": 3,
                 "answers": {keys[0]: 4, keys[1]: 5}, "status": BallotStatus.IN_PROGRESS, "started_at": now,
                 "updated_at": now, "revisions": 0} for u in chunk])
