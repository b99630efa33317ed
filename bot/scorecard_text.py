"""Scorecards in words, from a report dict: plain text, an HTML caption for the channel's photo, and
the chart's texts. Every word comes from the catalogs (`scorecard.*`, `reason.*`, `chart.*`).

All read only the report JSON (`scoring.Scorecard.to_report`), so a published report, a stored one and
one recomputed by `redheart score` read identically.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

from bot.domain.words import Bilingual
from bot.texts import hearts, lookup, t, t_plain

if TYPE_CHECKING:  # scoring.chart loads matplotlib (~25 MB): only a process that draws a chart pays it
    from scoring.chart import ChartText

#: Telegram's limit for a photo caption; counted here in UTF-16 code units, as Telegram does.
CAPTION_LIMIT = 1024


def factor_label(report_factor: Mapping[str, Any], lang: str, labels: Mapping[str, str] | None) -> str:
    """The label to show for a report's factor: `labels` first, then the report's own, then the key."""
    key = str(report_factor["key"])
    if labels and key in labels:
        return labels[key]
    return Bilingual.of(report_factor, "label")(lang) or key


def reason_label(code: str, lang: str) -> str:
    """A screening reason in words; a code the catalogs do not know yet shows as itself."""
    return lookup(lang, f"reason.{code}") or code


def response_rate(report: Mapping[str, Any]) -> float | None:
    """Submitted ballots over invitations, None when nobody was counted as invited."""
    invited = report.get("invited") or 0
    if invited <= 0:
        return None
    return float(report["ballots"]["submitted"]) / float(invited)


def _num(x: float) -> str:
    return f"{x:.2f}"


def _counts(counts: Mapping[str, int], lang: str) -> str:
    return t_plain(lang, "scorecard.list_sep").join(f"{reason_label(code, lang)} {n}" for code, n in counts.items())


def _lines(
    report: Mapping[str, Any],
    lang: str,
    labels: Mapping[str, str] | None,
    title: str | None,
    esc: Callable[[str], str],
    bold: Callable[[str], str],
) -> tuple[list[str], list[str], list[str]]:
    """(head lines, factor lines, tail lines) of a scorecard, already escaped with `esc`."""

    def say(key: str, **params: Any) -> str:
        return t_plain(lang, f"scorecard.{key}", **params)

    ballots = report["ballots"]
    head = [bold(esc(f"❤️ {say('brand')} — {title or report.get('sku', '')}"))]
    overall = report.get("overall") or {}
    score = overall.get("score")
    if score is None:
        head.append(esc(f"{say('overall')} {say('insufficient', n=ballots['accepted'])}"))
    else:
        ci = overall.get("ci")
        ci_text = say("aside", text=f"{say('ci')} {_num(ci[0])}–{_num(ci[1])}") if ci else ""
        head.append(bold(esc(f"{say('overall')} {hearts(score)} {_num(score)}")) + esc(ci_text))
    counts = say("ballots", accepted=ballots["accepted"], submitted=ballots["submitted"])
    rate = response_rate(report)
    if rate is not None:
        counts += say("aside", text=say("invited", invited=report["invited"], rate=f"{rate:.0%}"))
    head.append(esc(counts))
    for kind in ("excluded", "flagged"):
        if found := ballots.get(kind) or {}:
            head.append(esc(f"{say(kind)}{say('label_sep')}{_counts(found, lang)}"))
    if bands := ballots.get("weight_bands"):
        head.append(esc(say("bands", full=bands["full"], half=bands["half_or_more"], under=bands["under_half"],
                            zero=bands["zero"])))
    bound = report.get("stated_bound") or {}
    if all(bound.get(p) is not None for p in ("0.1", "0.2", "0.3")):
        head.append(esc(say("bound", p10=_num(bound["0.1"]), p20=_num(bound["0.2"]), p30=_num(bound["0.3"]))))

    body = []
    for f in report.get("factors", []):
        label = factor_label(f, lang, labels)
        if f.get("score") is None:
            body.append(esc(f"{label}  {say('insufficient', n=f['n'])}"))
        else:
            ci = f.get("ci")
            interval = say("aside", text=f"{_num(ci[0])}–{_num(ci[1])}") if ci else ""
            body.append(esc(f"{label}  {hearts(f['score'])} {_num(f['score'])}{interval} n={f['n']}"))
    tail = [esc(f"{say('method')} {report.get('method', '')}" + factor_set_text(report, lang))]
    return head, body, tail


def factor_set_text(report: Mapping[str, Any], lang: str) -> str:
    """" · factor set v2": which version of its category's factors the round rated (none in old reports)."""
    version = report.get("factor_set")
    return " · " + t_plain(lang, "scorecard.factor_set", version=version) if version else ""


def render_text(
    report: Mapping[str, Any],
    lang: str = "en",
    labels: Mapping[str, str] | None = None,
    title: str | None = None,
) -> str:
    """The scorecard as plain text in `lang` ("en" or "zh")."""
    head, body, tail = _lines(report, lang, labels, title, esc=lambda s: s, bold=lambda s: s)
    return "\n".join([*head, "", *body, "", *tail])


def _utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def render_caption(
    report: Mapping[str, Any],
    lang: str = "en",
    labels: Mapping[str, str] | None = None,
    title: str | None = None,
    limit: int = CAPTION_LIMIT,
) -> str:
    """The scorecard as a Telegram HTML caption (parse_mode HTML), at most `limit` UTF-16 units.

    Every piece of text is escaped; factors that do not fit are dropped from the end behind "…".
    """
    head, body, tail = _lines(report, lang, labels, title, esc=html.escape, bold=lambda s: f"<b>{s}</b>")
    for keep in range(len(body), -1, -1):
        shown = body[:keep] + (["…"] if keep < len(body) else [])
        text = "\n".join([*head, "", *shown, "", *tail])
        if _utf16_len(text) <= limit:
            return text
    # Only a pathological title gets here: cut the plain text rather than break a tag.
    plain = html.escape(render_text(report, lang, labels, title))
    cut = plain[: limit - 1]
    amp = cut.rfind("&")
    if amp > cut.rfind(";"):
        cut = cut[:amp]  # never leave a half entity
    while _utf16_len(cut) > limit - 1:
        cut = cut[:-1]
    return cut + "…"


def _date(when: datetime, lang: str) -> str:
    months = t_plain(lang, "chart.months").split()
    return t_plain(lang, "chart.date", day=when.day, month=months[when.month - 1], year=when.year)


def _template(lang: str, key: str) -> str:
    """A chart text with its placeholders left for `scoring.chart` to fill with numbers."""
    found = lookup(lang, key)
    if found is None:
        raise KeyError(key)
    return found


def chart_text(report: Mapping[str, Any], lang: str, when: datetime | None = None) -> ChartText:
    """The words on the scorecard's chart, in `lang`, its factors labelled as in the report; `when`
    (the round's close) dates it."""
    from scoring.chart import ChartText

    ballots = report["ballots"]
    info = t_plain(lang, "chart.ballots", accepted=ballots["accepted"], submitted=ballots["submitted"])
    rate = response_rate(report)
    if rate is not None:
        info += "\n" + t_plain(lang, "chart.response", rate=f"{rate:.0%}", invited=report["invited"])
    subtitle = _date(when, lang) if when else ""
    labels = {str(f["key"]): factor_label(f, lang, None) for f in report.get("factors", [])}
    if report.get("round_id") is not None:
        subtitle = t_plain(lang, "chart.round", round=report["round_id"], date=subtitle).rstrip(" ·")
    return ChartText(
        subtitle=subtitle,
        overall=t_plain(lang, "chart.overall"),
        overall_note=_template(lang, "chart.overall_note"),
        share=_template(lang, "chart.share"),
        factor_note=_template(lang, "chart.factor_note"),
        insufficient=_template(lang, "chart.insufficient"),
        round_insufficient=_template(lang, "chart.round_insufficient"),
        info=info,
        rated_on=t_plain(lang, "chart.rated_on", factors=t_plain(lang, "chart.list_sep").join(labels.values())),
        legend=t_plain(lang, "chart.legend"),
        method=t_plain(lang, "chart.method", method=report.get("method", "")) + factor_set_text(report, lang),
        labels=labels,
    )


def overall_text(report: Mapping[str, Any], lang: str) -> str:
    """The overall score with its interval, for the thank-you; empty when the round has none."""
    overall = report.get("overall") or {}
    if overall.get("score") is None:
        return ""
    low, high = overall["ci"]
    return t(lang, "thanks.overall", score=f"{overall['score']:.2f}", low=f"{low:.2f}", high=f"{high:.2f}")
