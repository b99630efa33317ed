"""`redheart demo`: a whole round, offline, in well under a minute.

The real bot runs against the loopback Bot API sandbox with a fresh SQLite database and the sample
store data. About forty simulated buyers link their accounts and rate SHAMPOO-001 the way people do:
most finish, some abandon, some go back and change answers, one tries to vote twice, a non-buyer and
someone with another person's contact try their luck, a speeder and a straight-liner get screened.
Demo time runs 60x faster than the wall clock, so "30 minutes" of round pass in 30 seconds and the
time a rater spends per question looks human to the screening rules.

A shop owner first watches one buyer (Buyer1) go through every screen, printed as their phone shows
it, and a Chinese buyer's first question. Every choice the simulated people make comes from `--seed`
and demo time starts at a fixed moment, so two runs with one seed print the same round; the story's
counts are tallied from what the people did and checked against the database before it is printed.
"""

from __future__ import annotations

import asyncio
import csv
import io
import logging
import random
import re
import shutil
import time
from collections import Counter
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from enum import Enum, auto
from pathlib import Path
from typing import Any

from bot.app import build_application
from bot.config import BotConfig, Config, TelegramConfig
from bot.demo.phone import screen
from bot.demo.sampledata import read_sample, write_sample_files
from bot.domain import identity, rounds
from bot.domain.runtime import Runtime
from bot.domain.settings import IdentityConfig, RoundsConfig
from bot.domain.storedata import import_files
from bot.runner import running
from bot.sandbox import BotApiSandbox, Button, SimUser
from bot.scorecard_text import render_text
from storage.db import Database
from storage.statuses import RoundStatus

SPEED = 60.0
#: Demo time starts here, whatever the date: printed dates and purchase ages are the same every run.
DEMO_START = datetime(2026, 11, 8, 2, 0, tzinfo=UTC)  # 10:00 in Beijing
DURATION = "30m"  # 30 s of wall time: room for 40 buyers rating on a loaded 2-CPU machine
#: The round opens at this much demo time after the start; linking 40 buyers takes ~4 s (4 demo minutes).
OPENS_AFTER = timedelta(minutes=15)
ADMIN_ID = 1000
CHANNEL = "@redheart_demo"
PRODUCT = "SHAMPOO-001"
# The demo's "true" quality per shampoo factor, which honest simulated buyers perceive with noise.
# (cleanliness, aroma, dandruff control, conditioning, moisturizing, anti-hair-loss)
TRUTH = (4.3, 3.6, 3.9, 4.0, 3.4, 2.9)


class ScaledClock:
    """Demo time: starts at `start` and runs `speed` times faster than the wall clock."""

    def __init__(self, speed: float, start: datetime = DEMO_START) -> None:
        self.start, self.t0, self.speed = start, time.monotonic(), speed

    def now(self) -> datetime:
        return self.start + timedelta(seconds=(time.monotonic() - self.t0) * self.speed)

    def jump_to(self, moment: datetime) -> None:
        """Demo time goes on from `moment` (never backwards): the round opens at the same minute
        however long this machine took to link the buyers."""
        if moment > self.now():
            self.start, self.t0 = moment, time.monotonic()


@dataclass
class Story:
    """What the demo saw, for the closing printout."""

    lines: list[str]

    def say(self, text: str) -> None:
        self.lines.append(text)
        print(text, flush=True)


async def _pause(rng: random.Random, low: float = 0.3, high: float = 0.5) -> None:
    """A human pause between taps: 0.3-0.5 s real = 18-30 s of demo time to read a question and choose.

    Long enough that the speeder (no pause) stays under half the round's median time even when a loaded
    machine adds 0.3 s to every tap: with 0.06-0.16 s, under load, the speeder's queue time made it look
    human and two runs of one seed screened differently."""
    await asyncio.sleep(rng.uniform(low, high))


def _answer(rng: random.Random, position: int) -> str:
    if rng.random() < 0.06:
        return "🤷"
    value = round(rng.gauss(TRUTH[position], 0.8))
    return str(min(5, max(1, value)))


def _text(user: SimUser) -> str:
    """The text of the bot's last message to `user`; the demo only ever reads text messages."""
    text = user.last_message.text
    if text is None:
        raise AssertionError(f"{user!r}: the bot's last message has no text (a photo or document?)")
    return text


def _callback_data(button: Button) -> str:
    """What tapping `button` sends; the demo only taps callback buttons, never URL ones."""
    if button.callback_data is None:
        raise AssertionError(f"button {button.text!r} carries no callback data (a URL button?)")
    return button.callback_data


async def _press(user: SimUser, row: int, column: int = 0) -> None:
    """Taps a button by its place, so the demo works whatever the buyer's language."""
    await user.tap(user.last_message.buttons[row][column].text)


def _on_question(user: SimUser) -> bool:
    return any(text in ("1", "1 ✓") for text in user.last_message.button_texts)


async def _rate_all(user: SimUser, rng: random.Random, *, speeder: bool = False, fixed: str | None = None,
                    stop_after: int | None = None) -> None:
    """Answers question after question on the ballot message, then submits (unless stopping early)."""
    answered = 0
    while _on_question(user):
        if stop_after is not None and answered >= stop_after:
            return
        # The question's line reads "2/6 · …" or "第 2/6 题 · …": the number before the slash.
        position = int(re.findall(r"\d+", _text(user).splitlines()[1].split("/")[0])[-1])
        await user.tap(fixed or _answer(rng, position - 1))
        answered += 1
        if not speeder:
            await _pause(rng)
    await _press(user, -1)  # submit: the last button of the summary


async def run_demo(base: Config, *, out: str = "demo-out", quiet: bool = False, seed: int = 1,
                   research: bool = False) -> int:
    folder = Path(out)
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    story = Story([])
    say = (lambda _text: None) if quiet else story.say
    started = time.monotonic()
    async with BotApiSandbox() as sandbox:
        sandbox.add_channel(CHANNEL, "Little Red Heart ratings")
        config = replace(
            base,
            telegram=TelegramConfig(token=sandbox.token, base_url=sandbox.base_url),
            database_url=f"sqlite:///{folder / 'demo.db'}",
            bot=BotConfig(admins=(ADMIN_ID,), publish_chat_id=CHANNEL, default_language="en"),
            identity=IdentityConfig(secret="demo-secret"),
            rounds=RoundsConfig(min_ballots=20, tick=timedelta(seconds=0.5), invitation_quota=500),
        )
        db = await Database.open(config.database_url)
        clock = ScaledClock(SPEED)
        rt = Runtime(db, config, clock)
        try:
            await import_files(db, write_sample_files(folder / "data", anchor=clock.now()), secret="demo-secret")
            say(f"sandbox Bot API on {sandbox.base_url}; sample store data imported")
            app = build_application(rt)
            errors: list[BaseException] = []

            async def record(_update: object, context: Any) -> None:
                errors.append(context.error)

            app.add_error_handler(record)  # the bot's own handler apologises; this one fails the demo
            executor_log = logging.getLogger("apscheduler.executors.default")
            level = executor_log.level
            try:
                async with running(app, poll_timeout=1):
                    report = await _story(sandbox, rt, clock, folder, say, seed, research)
                    # The demo ends while the scheduler may still be thanking raters (a pass out of
                    # budget wakes the next at once): that pass is cancelled on purpose, not an error.
                    executor_log.setLevel(logging.CRITICAL)
            finally:
                executor_log.setLevel(level)
        finally:
            await db.close()
    if errors:
        print(f"demo failed: {len(errors)} handler error(s): {errors[0]!r}")
        return 1
    if isinstance(report, Mismatch):
        print(f"demo failed: the story does not match the database: {report}")
        return 1
    if report is None:
        print("demo failed: the scorecard was not published")
        return 1
    print()
    print(report)
    print(f"\ndemo finished in {time.monotonic() - started:.1f} s; database in {folder / 'demo.db'}")
    return 0


def _phones() -> dict[str, str]:
    rows = csv.DictReader(io.StringIO(read_sample("customers.csv")))
    return {r["customer_id"]: r["phone"] for r in rows}


class Mismatch(str):
    """What the story says happened and the database disagree on."""


class Did(Enum):
    """What a simulated buyer did, as the story counts it."""

    SUBMITTED = auto()
    ABANDONED = auto()  # after two questions
    WENT_BACK = auto()  # a question
    REVISED = auto()  # an answer after submitting
    NOT_NOW = auto()  # and came back with /rate
    STOPPED = auto()  # invitations
    SPED = auto()
    STRAIGHT_FIVES = auto()  # at top speed


def told(tally: Counter[Did]) -> str:
    """The story's line about what the buyers did."""
    return (f"{tally[Did.SUBMITTED]} submitted (of them {tally[Did.WENT_BACK]} went back a question, "
            f"{tally[Did.REVISED]} changed an answer after submitting, {tally[Did.NOT_NOW]} said 'not now' and "
            f"came back with /rate, {tally[Did.SPED]} sped through, {tally[Did.STRAIGHT_FIVES]} gave fives to "
            f"everything at top speed); {tally[Did.ABANDONED]} abandoned after two questions; "
            f"{tally[Did.STOPPED]} stopped invitations")


async def _walk_through(user: SimUser, rng: random.Random, seen: list[str]) -> None:
    """Buyer1 rates like the others, in the same crowd (so at the same pace), and every screen of their
    phone is kept for the shop owner."""
    seen.append(screen(user, "Buyer1's phone: the invitation") + "\n  Buyer1 taps Rate now")
    await _press(user, 0)  # "Rate now"
    while _on_question(user):
        position = _text(user).splitlines()[1].split("/")[0].strip()
        choice = _answer(rng, int(position) - 1)
        seen.append(screen(user, f"question {position}") + f"\n  Buyer1 taps {choice}")
        await user.tap(choice)
        await _pause(rng)
    seen.append(screen(user, "the summary") + "\n  Buyer1 taps Submit")
    await _press(user, -1)
    seen.append(screen(user, "after submitting"))


async def _story(sandbox: BotApiSandbox, rt: Runtime, clock: ScaledClock, out: Path, say: Any,
                 seed: int, research: bool = False) -> str | None:
    phones = _phones()
    admin = sandbox.user(first_name="Admin", language_code="en", user_id=ADMIN_ID)
    buyers: dict[str, SimUser] = {}
    say("\n— linking accounts —")
    for n in range(1, 41):
        cid = f"C{n:04d}"
        user = sandbox.user(first_name=f"Buyer{n}", language_code="zh" if n % 3 == 0 else "en")
        if n % 5 == 0:
            await user.share_contact(phones[cid])
        else:
            await user.send(f"/start {await identity.issue_link_token(rt, cid)}")
        buyers[cid] = user
    say(f"40 buyers linked (8 by sharing their phone, 32 by deep link): “{_text(buyers['C0001'])[:60]}…”")

    stranger = sandbox.user(first_name="Mallory", language_code="en")
    await stranger.share_contact(phones["C0041"], user_id=stranger.id + 1)
    say(f"Mallory shares someone else's contact → {stranger.last_message.text}")
    twin = sandbox.user(first_name="Buyer1-second-phone", language_code="en")
    await twin.share_contact(phones["C0001"])
    say(f"Buyer1 tries a second Telegram account → {twin.last_message.text}")
    reused = await identity.issue_link_token(rt, "C0042")
    await buyers["C0002"].send(f"/start {reused}")
    outsider = sandbox.user(first_name="Olga", language_code="en")
    await outsider.send(f"/start {await identity.issue_link_token(rt, 'C0058')}")

    if research:
        from bot.demo.research_story import research_chapter

        if not await research_chapter(sandbox, rt, admin, list(buyers.values()), CHANNEL, out, say):
            return None

    say("\n— the admin opens a round —")
    clock.jump_to(DEMO_START + OPENS_AFTER)
    await admin.send(f"/newround {PRODUCT} {DURATION}")
    say(f"admin: /newround {PRODUCT} {DURATION} → {admin.last_message.text}")
    for user in buyers.values():
        await user.wait_for(lambda u: any("Rate now" in " ".join(m.button_texts) or "立即评分" in " ".join(
            m.button_texts) for m in u.messages), timeout=30)
    await outsider.send("/rate")
    say(f"Olga (bought face cream, not this shampoo) sends /rate → {outsider.last_message.text}")

    seen: list[str] = []  # Buyer1's screens
    chinese: list[str] = []
    say("\n— buyers rate —")
    ids = list(buyers)

    async def behave(i: int, cid: str) -> list[Did]:
        """Buyer `i` does their part of the story; what they did is what it returns."""
        user = buyers[cid]
        r = random.Random(f"{seed}:{i}")
        await asyncio.sleep(r.uniform(0, 2.0))
        if i == 0:
            await _walk_through(user, r, seen)
            return [Did.SUBMITTED]
        if i == 2:  # a Chinese buyer's first question, as their phone shows it
            await _press(user, 0)
            chinese.append(screen(user, "Buyer3's phone, in Chinese: the first question"))
            await _rate_all(user, r)
            return [Did.SUBMITTED]
        if i == 39:
            await _press(user, 1, 1)  # "Stop inviting me"
            return [Did.STOPPED]
        did = []
        if i in (35, 36):
            await _press(user, 1, 0)  # "Not now", then back later with /rate
            did.append(Did.NOT_NOW)
            await asyncio.sleep(1.0)
            await user.send("/rate")
        else:
            await _press(user, 0)  # "Rate now"
        if i in (30, 31, 32):
            await _rate_all(user, r, stop_after=2)  # abandons after two questions
            return [*did, Did.ABANDONED]
        if i in (33, 34):
            await _rate_all(user, r, speeder=True, fixed="5" if i == 34 else None)
            return [*did, Did.SUBMITTED, Did.SPED if i == 33 else Did.STRAIGHT_FIVES]
        if i in (25, 26, 27, 28):  # answers, goes back, answers again
            await user.tap(_answer(r, 0))
            await _pause(r)
            await user.tap(user.last_message.button_texts[-2])  # "« Back"
            did.append(Did.WENT_BACK)
            await _pause(r)
        await _rate_all(user, r)
        did.append(Did.SUBMITTED)
        if i in (25, 26):  # changes an answer after submitting
            await _pause(r)
            await _press(user, 0)  # "Change my ratings"
            await _press(user, 0)  # the first factor on the summary
            await _pause(r)
            await user.tap(_answer(r, 0))
            await _press(user, -1)  # submit again
            did.append(Did.REVISED)
        return did

    done = await asyncio.gather(*(behave(i, cid) for i, cid in enumerate(ids) if i not in (33, 34)))
    # The speeder and the straight-liner tap alone, so their speed is theirs and not the queue's.
    for i in (33, 34):
        done.append(await behave(i, ids[i]))
    tally = Counter(outcome for did in done for outcome in did)
    say(told(tally))
    say("\n— what a buyer sees —")
    for shown in seen + chinese:
        say(shown)
    first = buyers["C0001"]
    ballot_message = first.last_message
    change = _callback_data(ballot_message.buttons[0][0])  # "Change my ratings"
    await first.tap_data(change, ballot_message)
    await first.tap_data(change, ballot_message)  # the same button again, as a double tap sends it
    say(f"Buyer1 taps “Change my ratings” twice → the second changes nothing: "
        f"“{first.last_alert.text if first.last_alert else ''}”")

    say("\n— waiting for the scheduler to close the round —")
    round_id = (await rounds.list_rounds(rt, limit=1))[0].id
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not sandbox.chat_messages(CHANNEL):
        await asyncio.sleep(0.25)
    posts = sandbox.chat_messages(CHANNEL)
    if not posts:
        return None
    info = await rounds.round_info(rt, round_id)
    while info.status == RoundStatus.CLOSED and time.monotonic() < deadline:  # posted, not yet marked
        await asyncio.sleep(0.1)
        info = await rounds.round_info(rt, round_id)
    # Every buyer was invited; all but those who stopped opened a ballot.
    expected = (len(buyers), len(buyers) - tally[Did.STOPPED], tally[Did.SUBMITTED])
    found = (info.stats.invited, info.stats.started, info.stats.submitted)
    if expected != found:
        return Mismatch(f"story (invited, started, submitted) = {expected}, database = {found}")
    say(f"round {round_id} is {info.status}: invited {info.stats.invited}, started {info.stats.started} "
        f"(= {len(buyers)} − {tally[Did.STOPPED]} who stopped), submitted {info.stats.submitted} "
        f"(= started − {tally[Did.ABANDONED]} abandoned) — as the story says")
    report = await rounds.report(rt, round_id)
    ballots: Any = report["ballots"]
    fast = int(ballots["excluded"].get("speeder", 0))
    story_fast = tally[Did.SPED] + tally[Did.STRAIGHT_FIVES]
    say(f"screened out as too fast: {fast}" + (" — the speeder and the all-fives buyer" if fast == story_fast else
        f" — the story has {story_fast}; the others tapped faster than half the round's median time"))
    chart = out / "scorecard.png"
    chart.write_bytes(posts[-1].photo or b"")
    return (f"— scorecard posted to {CHANNEL} (chart written to {chart}) —\n"
            f"{render_text(report, 'en', title=info.product)}")
