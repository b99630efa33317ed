"""`redheart demo --research`: before its rating round, the demo asks the buyers which shampoo factors
matter most, publishes the importance chart, and the admin adopts the top six, so the rating round
that follows rates factor set v2.

Simulated buyers answer the survey by the random-utility model MaxDiff assumes: each candidate's
importance below plus Gumbel noise; the most is the highest, the least the lowest of the rest.
"""

from __future__ import annotations

import asyncio
import math
import random
import time
import tomllib
from pathlib import Path
from typing import Any

from bot.demo.sampledata import read_sample
from bot.domain import research
from bot.domain.runtime import Runtime
from bot.sandbox import BotApiSandbox, SimUser
from bot.texts import t_plain

# What the demo's buyers care about (logit utilities): cleansing and hair-loss care first, a gentle
# scalp close behind; scent, lather and packaging barely matter.
IMPORTANCE = {"cleanliness": 1.5, "anti_hair_loss": 1.2, "scalp_gentleness": 1.0, "dandruff_control": 0.7,
              "moisturizing": 0.5, "conditioning": 0.3, "value_for_money": 0.0, "aroma": -0.3, "lather": -0.8,
              "packaging": -1.2}
ADOPT = 6  # the rating demo's answers follow six factors


def _keys_by_label() -> dict[str, str]:
    shampoo = next(c for c in tomllib.loads(read_sample("categories.toml"))["category"] if c["key"] == "shampoo")
    return {f[label]: f["key"] for f in shampoo["factor"] for label in ("label_en", "label_zh")}


def _pick(user: SimUser, keys: dict[str, str], rng: random.Random, *, most: bool) -> str:
    labels = [b.text.removesuffix(" ✓") for row in user.last_message.buttons for b in row if b.text.removesuffix(
        " ✓") in keys]
    noisy = {label: IMPORTANCE[keys[label]] - math.log(-math.log(rng.random())) for label in labels}
    return (max if most else min)(noisy, key=lambda label: noisy[label])


async def _answer(user: SimUser, keys: dict[str, str], rng: random.Random) -> None:
    await asyncio.sleep(rng.uniform(0, 1.5))
    await user.tap(user.last_message.buttons[0][0].text)  # Start
    alerts = sum(a.show_alert for a in user.alerts)
    while "/" in (user.last_message.text or "").splitlines()[0]:
        await asyncio.sleep(rng.uniform(0.04, 0.1))  # 2.5-6 s of demo time a set: a reader's pace
        await user.tap(_pick(user, keys, rng, most=True))
        await user.tap(_pick(user, keys, rng, most=False))
        if sum(a.show_alert for a in user.alerts) > alerts:
            return  # the survey closed before they finished: the alert said so
    await user.tap(user.last_message.buttons[0][0].text)  # Submit


async def research_chapter(sandbox: BotApiSandbox, rt: Runtime, admin: SimUser, buyers: list[SimUser],
                           channel: str, out: Path, say: Any) -> bool:
    """The research round, from /newresearch to /adopt; False when its result was never posted."""
    say("\n— the admin asks buyers what matters most (research round) —")
    await admin.send("/newresearch shampoo 15m")
    say(f"admin: /newresearch shampoo 15m → {admin.last_message.text}")
    start = {t_plain(lang, "research.invite.start") for lang in ("en", "zh")}
    for user in buyers:
        await user.wait_for(lambda u: any(start & set(m.button_texts) for m in u.messages), timeout=30)
    keys = _keys_by_label()
    first = buyers[0]
    say(f"invitation to Buyer1: {(first.last_message.text or '').splitlines()[0]}")
    answering = buyers[:24]
    for group in range(0, len(answering), 12):  # twelve at a time, as invitations trickle in
        await asyncio.gather(*(_answer(user, keys, random.Random(100 + group + i))
                               for i, user in enumerate(answering[group:group + 12])))
    submitted = (await research.info(rt, (await research.list_research(rt, limit=1))[0].id)).submitted
    say(f"{submitted} buyers answered six sets each (most, then least among the other three); "
        f"{len(buyers) - submitted} did not")
    before = len(sandbox.chat_messages(channel))
    deadline = time.monotonic() + 40
    while time.monotonic() < deadline and len(sandbox.chat_messages(channel)) < before + 2:
        await asyncio.sleep(0.25)
    posts = sandbox.chat_messages(channel)[before:]
    if len(posts) < 2:
        return False
    for post, lang in zip(posts, ("en", "zh"), strict=False):
        (out / f"research-{lang}.png").write_bytes(post.photo or b"")
    research_id = (await research.list_research(rt, limit=1))[0].id
    say(f"research {research_id} published: the importance chart in English and Chinese "
        f"({out / 'research-en.png'}, {out / 'research-zh.png'})")
    say("\n".join(line for line in (posts[0].caption or "").splitlines()[1:]))
    await admin.send(f"/adopt {research_id} {ADOPT}")
    say(f"admin: /adopt {research_id} {ADOPT} → {admin.last_message.text}")
    return True
