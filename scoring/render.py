"""Human scorecards from a report dict: plain text, and an HTML caption for a Telegram photo.

Both read only the report JSON (`Scorecard.to_report`), so a published report, a stored one and one
recomputed by `redheart score` render identically.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Mapping
from typing import Any

from scoring.screening import REASON_TEXT

#: Telegram's limit for a photo caption; counted here in UTF-16 code units, as Telegram does.
CAPTION_LIMIT = 1024

TEXTS: dict[str, dict[str, str]] = {
    "en": {
        "brand": "Little Red Heart",
        "overall": "Overall",
        "ci": "95% CI",
        "ballots": "Ballots: {accepted} accepted of {submitted} submitted",
        "invited": "invited {invited}, response {rate}",
        "excluded": "Excluded",
        "flagged": "Flagged, kept",
        "insufficient": "insufficient data (n={n})",
        "method": "Method",
        "status": "Status",
    },
    "zh": {
        "brand": "小红心",
        "overall": "总分",
        "ci": "95% 置信区间",
        "ballots": "有效选票 {accepted} / 提交 {submitted}",
        "invited": "邀请 {invited}，回复率 {rate}",
        "excluded": "已排除",
        "flagged": "已标记（保留）",
        "insufficient": "数据不足（n={n}）",
        "method": "方法",
        "status": "状态",
    },
}


def _texts(lang: str) -> dict[str, str]:
    return TEXTS["zh" if lang == "zh" else "en"]


def hearts(score: float, *, full: str = "❤️", empty: str = "🤍") -> str:
    """Five hearts, the score rounded half up to whole hearts filled."""
    filled = max(0, min(5, int(score + 0.5)))
    return full * filled + empty * (5 - filled)


def factor_label(report_factor: Mapping[str, Any], lang: str, labels: Mapping[str, str] | None) -> str:
    """The label to show for a report's factor: `labels` first, then the report's own, then the key."""
    key = str(report_factor["key"])
    if labels and key in labels:
        return labels[key]
    own = report_factor.get("label_zh" if lang == "zh" else "label_en")
    return str(own) if own else key


def reason_label(code: str, lang: str) -> str:
    return REASON_TEXT.get(code, {}).get("zh" if lang == "zh" else "en", code)


def _num(x: float) -> str:
    return f"{x:.2f}"


def _interval(ci: list[float] | None, lang: str) -> str:
    if not ci:
        return ""
    inner = f"{_num(ci[0])}–{_num(ci[1])}"
    return f"（{inner}）" if lang == "zh" else f" ({inner})"


def response_rate(report: Mapping[str, Any]) -> float | None:
    """Submitted ballots over invitations, None when nobody was counted as invited."""
    invited = report.get("invited") or 0
    if invited <= 0:
        return None
    return float(report["ballots"]["submitted"]) / float(invited)


def _lines(
    report: Mapping[str, Any],
    lang: str,
    labels: Mapping[str, str] | None,
    title: str | None,
    esc: Callable[[str], str],
    bold: Callable[[str], str],
) -> tuple[list[str], list[str], list[str]]:
    """(head lines, factor lines, tail lines) of a scorecard, already escaped with `esc`."""
    t = _texts(lang)
    sep = "：" if lang == "zh" else ": "
    comma = "，" if lang == "zh" else ", "
    ballots = report["ballots"]
    head = [bold(esc(f"❤️ {t['brand']} — {title or report.get('sku', '')}"))]
    overall = report.get("overall") or {}
    score = overall.get("score")
    if score is None:
        head.append(esc(f"{t['overall']} {t['insufficient'].format(n=ballots['accepted'])}"))
    else:
        ci = overall.get("ci")
        ci_text = ""
        if ci:
            ci_text = (
                f"（{t['ci']} {_num(ci[0])}–{_num(ci[1])}）"
                if lang == "zh"
                else f" ({t['ci']} {_num(ci[0])}–{_num(ci[1])})"
            )
        head.append(bold(esc(f"{t['overall']} {hearts(score)} {_num(score)}")) + esc(ci_text))
    counts = t["ballots"].format(accepted=ballots["accepted"], submitted=ballots["submitted"])
    rate = response_rate(report)
    if rate is not None:
        extra = t["invited"].format(invited=report["invited"], rate=f"{rate:.0%}")
        counts += f"（{extra}）" if lang == "zh" else f" ({extra})"
    head.append(esc(counts))
    excluded = ballots.get("excluded") or {}
    if excluded:
        parts = comma.join(f"{reason_label(code, lang)} {n}" for code, n in excluded.items())
        head.append(esc(f"{t['excluded']}{sep}{parts}"))
    flagged = ballots.get("flagged") or {}
    if flagged:
        parts = comma.join(f"{reason_label(code, lang)} {n}" for code, n in flagged.items())
        head.append(esc(f"{t['flagged']}{sep}{parts}"))

    body = []
    for f in report.get("factors", []):
        label = factor_label(f, lang, labels)
        if f.get("score") is None:
            body.append(esc(f"{label}  {t['insufficient'].format(n=f['n'])}"))
        else:
            score = f["score"]
            body.append(esc(f"{label}  {hearts(score)} {_num(score)}{_interval(f.get('ci'), lang)} n={f['n']}"))
    tail = [esc(f"{t['method']} {report.get('method', '')}")]
    return head, body, tail


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
