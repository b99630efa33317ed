"""What research respondents, admins and channel readers see: the survey's one message, its
invitation, and the result as text, caption and chart. Every word comes from the catalogs."""

from __future__ import annotations

import html
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.callbacks import InviteChoice, ResearchButton, ResearchInviteButton
from bot.domain import factorsets
from bot.domain.research_outbox import ResearchInvitation
from bot.domain.research_responses import ResponseView
from bot.domain.research_rule import ResearchAction, ResearchMove
from bot.domain.runtime import Runtime
from bot.domain.words import Bilingual
from bot.formats import when
from bot.screens import Screen
from bot.texts import Html, html_lines, lookup, t, t_plain

if TYPE_CHECKING:
    from scoring.maxdiff_chart import ResearchChartText

# Reading four short labels and tapping twice: about 8 s a set, rounded up to whole minutes.
SECONDS_PER_SET = 8


def _category(name: str, lang: str) -> str:
    """A category name inside a sentence: "a shampoo", not "a Shampoo" (Chinese has no case)."""
    return name if lang == "zh" else name.lower()


def response_screen(view: ResponseView, lang: str, zone: ZoneInfo) -> Screen:
    """The respondent's one message: a set's most or least question, the summary, or the thanks."""
    def button(label: str, move: ResearchMove) -> InlineKeyboardButton:
        return InlineKeyboardButton(label, callback_data=ResearchButton(view.response_id, view.rev, move).encode())

    back = [button(t_plain(lang, "research.back"), ResearchMove(ResearchAction.BACK))]
    n, category = len(view.sets), _category(view.category(lang), lang)
    if view.step < 2 * n:
        k, least = divmod(view.step, 2)
        shown = view.sets[k]
        most, worst = (view.picks.get(str(k)) or [None, None])
        if not least:
            rows = [[button(c.label(lang) + (" ✓" if most == p else ""), ResearchMove(ResearchAction.PICK, p))]
                    for p, c in enumerate(shown)]
            text = t(lang, "research.most", category=category, position=k + 1, total=n)
        else:
            assert most is not None
            rows = [[button(c.label(lang) + (" ✓" if worst == p else ""), ResearchMove(ResearchAction.PICK, p))]
                    for p, c in enumerate(shown) if p != most]
            text = t(lang, "research.least", category=category, position=k + 1, total=n,
                     most=shown[most].label(lang))
        return Screen(text, InlineKeyboardMarkup(rows + ([back] if view.step else [])))
    if view.step == 2 * n:
        lines: list[str] = []
        for k, shown in enumerate(view.sets):
            most, worst = view.picks.get(str(k)) or [None, None]
            lines.append(t(lang, "research.summary_line", position=k + 1,
                           most="—" if most is None else shown[most].label(lang),
                           least="—" if worst is None else shown[worst].label(lang)))
        rows = [[button(t_plain(lang, "research.submit"), ResearchMove(ResearchAction.SUBMIT))], back]
        return Screen(t(lang, "research.summary", category=category, lines=html_lines(lines)),
                      InlineKeyboardMarkup(rows))
    key = "research.resubmitted" if view.revisions else "research.submitted"
    change = button(t_plain(lang, "research.change"), ResearchMove(ResearchAction.REVISE))
    return Screen(t(lang, key, category=category, closes_at=when(view.closes_at, lang, zone)),
                  InlineKeyboardMarkup([[change]]))


def invitation_screen(inv: ResearchInvitation, zone: ZoneInfo, *, reminder: bool = False) -> Screen:
    lang = inv.language
    category = _category(inv.category, lang)
    closes_at = when(inv.closes_at, lang, zone)
    if reminder:
        text = t(lang, "research.remind.text", category=category, closes_at=closes_at, sets=inv.sets)
    else:
        text = t(lang, "research.invite.text", category=category, sets=inv.sets,
                 minutes=max(1, -(-inv.sets * SECONDS_PER_SET // 60)), closes_at=closes_at)

    def button(key: str, choice: InviteChoice) -> InlineKeyboardButton:
        return InlineKeyboardButton(t_plain(lang, key),
                                    callback_data=ResearchInviteButton(inv.research_id, choice).encode())

    rows = [[button("research.invite.start", InviteChoice.RATE_NOW)],
            [button("invite.not_now", InviteChoice.NOT_NOW), button("invite.stop", InviteChoice.STOP)]]
    return Screen(text, InlineKeyboardMarkup(rows))


# --- the result ---------------------------------------------------------------------------------

def _label(c: Mapping[str, Any], lang: str) -> str:
    return Bilingual.of(c, "label")(lang) or str(c["key"])


def _rank(c: Mapping[str, Any]) -> str:
    lo, hi = c.get("rank_band") or [c["rank"], c["rank"]]
    return f"#{lo}" if lo == hi else f"#{lo}–{hi}"


def _excluded(report: Mapping[str, Any], lang: str) -> str | None:
    counts = report["respondents"].get("excluded") or {}
    if not counts:
        return None
    words = ", ".join(f"{lookup(lang, f'research.reason.{code}') or code} {n}" for code, n in counts.items())
    return t_plain(lang, "research.excluded", counts=words)


def result_lines(report: Mapping[str, Any], lang: str, category: str) -> list[str]:
    """The result in plain words, one candidate a line (the terminal, and the caption's body)."""
    r = report["respondents"]
    lines = [t_plain(lang, "research.head", research_id=report["research_id"], category=category,
                     status=lookup(lang, f"status.{report['status']}") or report["status"]),
             t_plain(lang, "research.info", accepted=r["accepted"], submitted=r["submitted"],
                     version=report.get("factor_set") or 1)]
    if report.get("adopted_version"):
        lines.append(t_plain(lang, "research.adopted", version=report["adopted_version"]))
    if report["status"] == "insufficient":
        lines.append(t_plain(lang, "research.insufficient", n=r["accepted"]))
    else:
        lines += [t_plain(lang, "research.line", rank=_rank(c), label=_label(c, lang), share=f"{c['share']:.1f}",
                          low=f"{c['ci'][0]:.1f}", high=f"{c['ci'][1]:.1f}", best=c["best"], worst=c["worst"],
                          shown=c["shown"])
                  for c in report["candidates"]]
    if excluded := _excluded(report, lang):
        lines.append(excluded)
    lines.append(report["method"]["algorithm"])
    return lines


def caption(report: Mapping[str, Any], lang: str, category: str) -> str:
    """The channel photo's HTML caption: the title, then the ranking."""
    title = t(lang, "research.title", category=category)
    body = result_lines(report, lang, category)
    # The lines are plain text (as the terminal shows them): escaped whole, they become HTML.
    rows = [f"<b>{title}</b>", *(html.escape(line, quote=False) for line in body[1:])]
    if any("–" in _rank(c) for c in report["candidates"]) and report["status"] != "insufficient":
        rows.append(t(lang, "research.caption_more"))
    return "\n".join(rows)[:1024]


def chart_text(report: Mapping[str, Any], lang: str, category: str, top: int = 5) -> ResearchChartText:
    from scoring.maxdiff_chart import ResearchChartText  # with matplotlib: only when a chart is drawn

    r = report["respondents"]
    info = t_plain(lang, "research.info", accepted=r["accepted"], submitted=r["submitted"],
                   version=report.get("factor_set") or 1)
    if report.get("adopted_version"):
        info += " · " + t_plain(lang, "research.adopted", version=report["adopted_version"])
    return ResearchChartText(
        title=t_plain(lang, "research.title", category=category), info=info,
        footer=t_plain(lang, "research.footer", method=report["method"]["algorithm"]),
        labels={c["key"]: _label(c, lang) for c in report["candidates"]},
        top_note=t_plain(lang, "research.top_note", k=top),
        insufficient=t_plain(lang, "research.insufficient", n=r["accepted"]),
    )


def chart_png(report: Mapping[str, Any], lang: str, category: str) -> bytes:
    from scoring.maxdiff_chart import render_research_png  # matplotlib loads only when a chart is drawn

    return render_research_png(report, chart_text(report, lang, category))


async def factor_sets_text(rt: Runtime, lang: str) -> Html:
    """/method's last part: each category's factor set version in force, and its factors."""
    async with rt.db.session() as s:
        versions = await factorsets.all_current(s)
    return html_lines([t(lang, "method.factor_sets"), *(
        t(lang, "method.factor_set_line", category=v.category_key, version=v.version,
          factors=", ".join(Bilingual(f.label_en, f.label_zh)(lang) for f in v.factors))
        for v in versions)])
