"""A round's status as admins read it, in the chat and on the command line."""

from __future__ import annotations

from bot.config import Config
from bot.domain.rounds import RoundInfo
from bot.texts import t_plain
from storage.statuses import RoundStatus


def status_label(config: Config, info: RoundInfo, lang: str) -> str:
    """The round's status in words. A round that was scored but has nowhere to be posted (no
    `bot.publish_chat_id`) stays `closed`, and says why: it is never called published."""
    if info.status == RoundStatus.CLOSED and info.stats.accepted is not None and not config.bot.publish_chat_id:
        return t_plain(lang, "round.unposted")
    return t_plain(lang, f"status.{info.status}")
