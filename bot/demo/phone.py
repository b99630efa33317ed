"""What a buyer's phone shows, printed: the bot's message and its buttons, as a shop owner would see it."""

from __future__ import annotations

import textwrap

from bot.sandbox import SimUser

WIDTH = 60


def screen(user: SimUser, caption: str) -> str:
    """The bot's last message to `user` as a phone screen: its text, then its buttons row by row."""
    message = user.last_message
    lines = [f"┌─ {caption} " + "─" * max(0, WIDTH - len(caption) - 4)]
    for paragraph in (message.text or message.caption or "").splitlines() or [""]:
        lines += [f"│ {part}" for part in textwrap.wrap(paragraph, WIDTH - 2) or [""]]
    for row in message.buttons:
        lines.append("│ " + " ".join(f"[ {button.text} ]" for button in row))
    lines.append("└" + "─" * (WIDTH - 1))
    return "\n".join(lines)
