"""Deep links: what a Telegram client sends when a user opens `t.me/<bot>?start=<payload>`.

Clients accept a start payload of at most 64 characters from `[A-Za-z0-9_-]` and send it as
"/start PAYLOAD"; anything else is dropped and the bot gets a plain "/start" (the user just pressed
START), which is exactly the case a bot's deep-link handling must survive.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

START_PAYLOAD = re.compile(r"[A-Za-z0-9_-]{1,64}")
_WEB_HOSTS = frozenset({"t.me", "telegram.me", "telegram.dog", "www.t.me"})


@dataclass(frozen=True)
class BotLink:
    """A link to a bot: its username, and the `start` parameter if the link has one."""

    username: str
    start: str | None = None


def parse_bot_link(url: str) -> BotLink:
    """Read `https://t.me/<bot>?start=X` (also telegram.me, without a scheme, or `tg://resolve?domain=`)."""
    parts = urlsplit(url if "://" in url else f"https://{url}")
    query = parse_qs(parts.query, keep_blank_values=True)
    if parts.scheme == "tg" and parts.netloc == "resolve":
        username = query.get("domain", [""])[0]
    elif parts.scheme in ("http", "https") and parts.netloc.lower() in _WEB_HOSTS:
        username = parts.path.strip("/").split("/")[0]
    else:
        raise ValueError(f"{url!r} is not a Telegram link to a bot (https://t.me/<bot>?start=...)")
    if not username:
        raise ValueError(f"{url!r} names no bot")
    start = query.get("start")
    return BotLink(username.removeprefix("@"), start[0] if start else None)


def start_command(payload: str | None) -> str:
    """The text a client sends: "/start PAYLOAD" for a valid payload, else plain "/start"."""
    if payload is not None and START_PAYLOAD.fullmatch(payload):
        return f"/start {payload}"
    return "/start"
