"""The real `redheart run` process, SIGKILLed at each step of a round's close and publication, then
started again: one close, one scorecard post, every rater thanked once — and a post in doubt goes to
the admins, never out a second time on its own (bot.domain.publication, bot.domain.outbox).

The sandbox is served by this test process on loopback; the bot is a child process reading a config
file that points `telegram.base_url` at it, with the test's own database (SQLite, and PostgreSQL when
REDHEART_TEST_DATABASE_URL is set). The kill comes from inside the sandbox's handling of the chosen
Bot API call (as `redheart bench --kill-at` does), so the call has been performed and its answer is
lost with the process.
"""

from __future__ import annotations

import asyncio
import secrets
import subprocess
import sys
from collections import Counter
from collections.abc import Callable
from contextlib import suppress
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import insert, select, update

from bot.bench.fixtures import seed_raters
from bot.domain.clock import SystemClock
from bot.domain.runtime import Runtime
from bot.sandbox import BotApiSandbox, SimUser
from bot.sandbox.models import ApiCall
from storage.db import Database
from storage.models import Ballot, Invitation, Round, RoundFactor
from storage.statuses import BallotStatus, RoundStatus, ThanksStatus
from tests.conftest import ADMIN_ID, CHANNEL, make_config

RATERS = 5
REDHEART = Path(sys.executable).with_name("redheart")


def config_file(path: Path, sandbox: BotApiSandbox, database_url: str) -> Path:
    path.write_text(f"""
[telegram]
token = "{sandbox.token}"
base_url = "{sandbox.base_url}"
[database]
url = "{database_url}"
[bot]
admins = [{ADMIN_ID}]
publish_chat_id = "{CHANNEL}"
default_language = "en"
flood_limit = 0
[identity]
secret = "{secrets.token_urlsafe(48)}"
[rounds]
tick = "1s"
claim_timeout = "2s"
min_ballots = 3
[scoring]
min_factor_n = 3
""")
    return path


async def a_round_due_to_close(db: Database) -> tuple[int, list[int]]:
    """RATERS buyers invited to a round, every one submitted, its deadline just passed (still open)."""
    rt = Runtime(db, make_config(), SystemClock())
    round_id, user_ids = await seed_raters(rt, RATERS)
    now = rt.clock.now()
    async with db.session() as s:
        keys = list(await s.scalars(select(RoundFactor.key).where(RoundFactor.round_id == round_id)))
        invited = (await s.execute(select(Invitation.customer_id, Invitation.telegram_user_id)
                                   .where(Invitation.round_id == round_id))).all()
        for i, (customer, user) in enumerate(invited):
            answers = {k: (i + j) % 5 + 1 for j, k in enumerate(keys)}
            await s.execute(insert(Ballot).values(
                round_id=round_id, customer_id=customer, rater=f"r{i}", telegram_user_id=user, chat_id=user,
                step=len(keys) + 1, rev=9, answers=answers, submitted=answers, status=BallotStatus.SUBMITTED,
                started_at=now - timedelta(minutes=10), updated_at=now,
                submitted_at=now - timedelta(minutes=10 - i), revisions=0))
        await s.execute(update(Round).where(Round.id == round_id).values(closes_at=now - timedelta(seconds=1)))
    return round_id, user_ids


class Bot:
    """`redheart run` as a child process."""

    def __init__(self, config: Path) -> None:
        self.proc = subprocess.Popen([str(REDHEART), "run", "--config", str(config)],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

    def kill(self) -> None:
        self.proc.kill()  # SIGKILL

    async def stop(self) -> str:
        """Stops it (SIGTERM, then SIGKILL if it lingers) and returns what it logged."""
        with suppress(ProcessLookupError):
            self.proc.terminate()
        loop = asyncio.get_running_loop()
        try:
            await asyncio.wait_for(loop.run_in_executor(None, self.proc.wait), 20)
        except TimeoutError:
            self.proc.kill()
            await loop.run_in_executor(None, self.proc.wait)
        assert self.proc.stderr is not None
        return self.proc.stderr.read().decode(errors="replace")


def nth_call(method: str, n: int, chats: set[int] | None = None) -> Callable[[ApiCall], bool]:
    """The n-th successful call to `method` (to one of `chats`, if given)."""
    seen = 0

    def matches(call: ApiCall) -> bool:
        nonlocal seen
        if call.method == method and call.ok and (chats is None or call.chat_id in chats):
            seen += 1
            return seen == n
        return False

    return matches


# Each step of a close and its publication where a process can die, as the Bot API call it dies in:
# right after start (the close runs in the first pass), in the scorecard's post (performed, answer
# lost), and in the thank-yous (the first, and a later one).
KILL_AT: dict[str, Callable[[set[int]], Callable[[ApiCall], bool]]] = {
    "closing": lambda raters: nth_call("getUpdates", 1),
    "posting": lambda raters: nth_call("sendPhoto", 1),
    "first_thanks": lambda raters: nth_call("sendMessage", 1, raters),
    "later_thanks": lambda raters: nth_call("sendMessage", 3, raters),
}


@pytest.mark.parametrize("step", list(KILL_AT))
async def test_a_bot_killed_at_each_step_of_a_close_restarts_into_one_post_and_one_thanks_each(
    db: Database, tmp_path: Path, step: str,
) -> None:
    round_id, user_ids = await a_round_due_to_close(db)
    database_url = db.engine.url.render_as_string(hide_password=False)
    async with BotApiSandbox() as sandbox:
        sandbox.add_channel(CHANNEL, "ratings")
        raters = [sandbox.user(first_name=f"R{u}", user_id=u, started=True) for u in user_ids]
        admin = sandbox.user(first_name="Admin", user_id=ADMIN_ID, started=True)
        config = config_file(tmp_path / "redheart.toml", sandbox, database_url)
        killed = asyncio.Event()
        first = Bot(config)
        at = KILL_AT[step](set(user_ids))

        def kill(call: ApiCall) -> None:
            if not killed.is_set() and at(call):
                first.kill()  # inside the sandbox's handling of that very call
                killed.set()

        sandbox.on_call.append(kill)
        try:
            await asyncio.wait_for(killed.wait(), 60)
        finally:
            sandbox.on_call.remove(kill)
            first_logs = await first.stop()
        assert first.proc.returncode == -9, first_logs
        second = Bot(config)
        try:
            await finish(sandbox, admin, raters, second)
        except AssertionError as exc:
            raise AssertionError(f"{exc}\nfirst process:\n{first_logs}\nsecond:\n{await second.stop()}") from exc
        finally:
            logs = await second.stop()
    posts = sandbox.chat_messages(CHANNEL)
    assert len(posts) == 1, logs  # exactly one scorecard, whatever the step
    thanks = Counter(c.chat_id for c in sandbox.calls if c.method == "sendMessage" and c.ok and c.chat_id in user_ids)
    async with db.session() as s:
        rnd = await s.get_one(Round, round_id)
        assert rnd.status in (RoundStatus.PUBLISHED, RoundStatus.INSUFFICIENT) and rnd.closed_at is not None
        status = dict((await s.execute(select(Ballot.telegram_user_id, Ballot.thanks_status))).all())
    # Every rater thanked once, except a thank-you that was on its way when the process died and never
    # arrived: that one is `unknown` (counted, never resent). None was lost by this run's kills.
    assert all(n == 1 for n in thanks.values()), thanks
    assert {u for u in user_ids if not thanks[u]} <= {u for u, st in status.items() if st == ThanksStatus.UNKNOWN}
    assert set(thanks) == set(user_ids), (step, thanks, status)
    # Asked once about the post that died with the first process; about nothing otherwise.
    assert len(admin.messages) == (1 if step == "posting" else 0), [m.text for m in admin.messages]
    assert (first_logs + logs).count(f"round {round_id} closed") <= 1  # never closed twice


async def finish(sandbox: BotApiSandbox, admin: SimUser, raters: list[SimUser], bot: Bot) -> None:
    """Lets the restarted bot finish the round; answers "It's there" if the admins are asked (the post
    that died with the first process is in the channel)."""
    def asked(u: SimUser) -> bool:
        return any("may or may not have reached the channel" in (m.text or "") for m in u.messages)

    def done(_: SimUser) -> bool:
        return all(any("Results" in (m.text or "") for m in r.messages) for r in raters)

    await admin.wait_for(lambda u: asked(u) or done(u), timeout=60)
    if asked(admin):
        assert len(sandbox.chat_messages(CHANNEL)) == 1  # there already; the restart did not post again
        await admin.tap("✅ It's there")
        assert "counted as published" in admin.last_message.text
    await admin.wait_for(done, timeout=60)
    await asyncio.sleep(2.5)  # a couple more ticks: anything sent twice would show now
    assert bot.proc.poll() is None
