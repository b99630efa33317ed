"""The scorecard as readers of the publish channel see it, and the thank-you raters get."""

from __future__ import annotations

from html import escape
from typing import Any

from telegram import Bot

from bot.domain.outbox import Publication, ThankYou
from bot.domain.runtime import Runtime
from bot.texts import t


def _score(report: dict[str, Any]) -> str:
    overall = report.get("overall") or {}
    if overall.get("score") is None:
        n = (report.get("ballots") or {}).get("accepted", 0)
        return f"insufficient data (n={n})"
    low, high = overall["ci"]
    return f"{overall['score']:.2f} / 5 (95% CI {low:.2f}–{high:.2f})"


def scorecard_text(publication: Publication, lang: str) -> str:
    report = publication.report
    labels = {key: (zh if lang == "zh" else en) for key, en, zh in publication.factors}
    ballots = report.get("ballots", {})
    lines = [f"❤️ <b>{escape(publication.product)}</b> — {escape(report['sku'])}",
             f"<b>{_score(report)}</b>", ""]
    for f in report.get("factors", []):
        value = "—" if f.get("score") is None else f"{f['score']:.2f}"
        lines.append(f"{escape(labels.get(f['key'], f['key']))}: {value} (n={f['n']})")
    lines += ["", f"n={ballots.get('accepted', 0)}/{ballots.get('submitted', 0)} · invited {report.get('invited', 0)}",
              f"<i>{escape(str(report.get('method', '')))}</i>"]
    return "\n".join(lines)


async def post_scorecard(bot: Bot, rt: Runtime, publication: Publication) -> int | None:
    chat = rt.config.bot.publish_chat_id
    if not chat:
        return None
    target: int | str = int(chat) if chat.lstrip("-").isdigit() else chat
    message = await bot.send_message(target, scorecard_text(publication, rt.config.bot.default_language),
                                     parse_mode="HTML")
    return message.message_id


def thanks_text(thanks: ThankYou) -> str:
    report, lang = thanks.report, thanks.language
    if report.get("status") == "insufficient" or (report.get("overall") or {}).get("score") is None:
        return t(lang, "thanks.insufficient", product=escape(thanks.product),
                 n=(report.get("ballots") or {}).get("accepted", 0))
    return t(lang, "thanks.published", product=escape(thanks.product), overall=_score(report))
