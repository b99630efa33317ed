"""A research round's responses: from the database to `scoring.maxdiff` and back, and to and from the
export CSV, so `redheart research score` recomputes the published result from the export alone."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.offloop import off_loop
from scoring.maxdiff import MaxDiffMethod, Response, Task, analyse, to_report
from storage.models import Category, Invitation, ResearchResponse, ResearchRound
from storage.statuses import BallotStatus, InvitationStatus, RoundStatus

EXPORT_COLUMNS = ("respondent", "seconds", "excluded_by_admin", "set", "shown", "most", "least")


def response_of(rater: str, sets: Sequence[Sequence[str]], picks: dict[str, Any], seconds: float | None,
                excluded: bool) -> Response:
    tasks = tuple(Task(tuple(shown), int(picks[str(k)][0]), int(picks[str(k)][1])) for k, shown in enumerate(sets))
    return Response(rater, tasks, seconds, excluded)


def build_report(meta: dict[str, Any], responses: Sequence[Response], method: MaxDiffMethod, *,
                 intervals: bool = True) -> dict[str, Any]:
    """The result document: `meta` (research_id, category, factor_set, candidates with their labels,
    min_responses, invited) with the fit. Pure, so the export recomputes it to the last digit."""
    candidates = meta["candidates"]
    result = analyse([c["key"] for c in candidates], responses, method, intervals=intervals)
    labels = {c["key"]: c for c in candidates}
    doc = to_report(result, method)
    for c in doc["candidates"]:
        c["label_en"], c["label_zh"] = labels[c["key"]]["label_en"], labels[c["key"]]["label_zh"]
    enough = result.accepted >= int(meta["min_responses"])
    status = RoundStatus.PUBLISHED if enough else RoundStatus.INSUFFICIENT
    names: dict[str, Any] = {k: meta[k] for k in ("category_en", "category_zh") if k in meta}
    return {"research_id": meta["research_id"], "category": meta["category"], **names, "status": str(status),
            "factor_set": meta["factor_set"], "invited": meta["invited"], "min_responses": meta["min_responses"],
            **doc}


async def meta_of(s: AsyncSession, rnd: ResearchRound) -> dict[str, Any]:
    # Once a result is stored, its count stands: an invitation cancelled later (a buyer forgotten)
    # must not change what the export recomputes.
    invited = (rnd.report or {}).get("invited")
    if invited is None:
        invited = await s.scalar(
            select(func.count()).select_from(Invitation)
            .where(Invitation.research_round_id == rnd.id, Invitation.status != InvitationStatus.CANCELLED)
        )
    category = await s.get_one(Category, rnd.category_key)
    return {"research_id": rnd.id, "category": rnd.category_key, "category_en": category.name_en,
            "category_zh": category.name_zh, "factor_set": rnd.factor_set,
            "candidates": list((rnd.design or {}).get("candidates", [])), "min_responses": rnd.min_responses,
            "invited": int(invited or 0)}


async def submitted_responses(s: AsyncSession, round_id: int) -> list[Response]:
    rows = await s.execute(
        select(ResearchResponse.rater, ResearchResponse.sets, ResearchResponse.submitted, ResearchResponse.seconds,
               ResearchResponse.excluded_by_admin)
        .where(ResearchResponse.round_id == round_id, ResearchResponse.status == BallotStatus.SUBMITTED,
               ResearchResponse.submitted.is_not(None))
        # The bootstrap draws respondents by their place in this list: the design's order, which no
        # later change (a forgotten buyer's random pseudonym) can move.
        .order_by(ResearchResponse.respondent, ResearchResponse.id)
    )
    return [response_of(rater, sets, submitted, seconds, bool(excluded)) for rater, sets, submitted, seconds, excluded
            in rows]


async def research_report(s: AsyncSession, rnd: ResearchRound, *, intervals: bool = True) -> dict[str, Any]:
    meta = await meta_of(s, rnd)
    responses = await submitted_responses(s, rnd.id)
    # 200 refits of the bootstrap take ~0.2 s: off the event loop, as closing a rating round is.
    return await off_loop(build_report, meta, responses, MaxDiffMethod(), intervals=intervals)


def export_csv(responses: Iterable[Response]) -> str:
    """One row per answered set; `seconds` rounded as the report never shows them, exactly as stored."""
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(EXPORT_COLUMNS)
    for r in responses:
        for k, task in enumerate(r.tasks):
            writer.writerow([r.respondent, "" if r.seconds is None else repr(r.seconds), int(r.excluded_by_admin), k,
                             "|".join(task.shown), task.shown[task.best], task.shown[task.worst]])
    return out.getvalue()


class BadExport(ValueError):
    """An export file that cannot be read back; the message names FILE:LINE."""


def read_export(name: str, text: str) -> list[Response]:
    reader = csv.DictReader(io.StringIO(text, newline=""))
    if tuple(reader.fieldnames or ()) != EXPORT_COLUMNS:
        raise BadExport(f"{name}:1: expected the header {','.join(EXPORT_COLUMNS)}")
    by_rater: dict[str, list[tuple[int, Task]]] = {}
    extra: dict[str, tuple[float | None, bool]] = {}
    for line, row in enumerate(reader, start=2):
        try:
            shown = tuple((row["shown"] or "").split("|"))
            if len(shown) < 3 or len(set(shown)) != len(shown):
                raise ValueError(f"shown must be three or more different candidates joined by |, got {row['shown']!r}")
            if row["most"] not in shown or row["least"] not in shown or row["most"] == row["least"]:
                raise ValueError("most and least must be two different candidates of the shown set")
            task = Task(shown, shown.index(row["most"]), shown.index(row["least"]))
            seconds = float(row["seconds"]) if row["seconds"] else None
            extra[row["respondent"]] = (seconds, row["excluded_by_admin"] == "1")
            by_rater.setdefault(row["respondent"], []).append((int(row["set"]), task))
        except (ValueError, AttributeError) as exc:
            raise BadExport(f"{name}:{line}: {exc}") from None
    # In the file's order, which is the order the result was computed in (see `submitted_responses`).
    return [Response(rater, tuple(t for _k, t in sorted(tasks, key=lambda kt: kt[0])), *extra[rater])
            for rater, tasks in by_rater.items()]
