"""A research round's export: its submitted responses, one row per answered set, pseudonymous, and a
method file with everything else the result depends on, so `redheart research score` recomputes the
published result to the last digit without the database."""

from __future__ import annotations

from typing import Any

from bot.domain.errors import UnknownResearch
from bot.domain.lifecycle import must_get
from bot.domain.research_rows import build_report, export_csv, meta_of, read_export, submitted_responses
from bot.domain.runtime import Runtime
from scoring.maxdiff import MaxDiffMethod
from storage.models import ResearchRound


async def export_research(rt: Runtime, research_id: int) -> tuple[str, dict[str, Any]]:
    """The research round's submitted responses as CSV text, and its method file."""
    async with rt.db.session() as s:
        rnd = await must_get(s, ResearchRound, research_id, UnknownResearch(research_id=research_id))
        meta = await meta_of(s, rnd)
        responses = await submitted_responses(s, research_id)
    return export_csv(responses), {**meta, "method": MaxDiffMethod().document()}


def score_export(name: str, text: str, document: dict[str, Any]) -> dict[str, Any]:
    method = MaxDiffMethod.from_document(document["method"])
    meta = {k: document[k] for k in ("research_id", "category", "factor_set", "candidates", "min_responses",
                                     "invited")}
    meta |= {k: document[k] for k in ("category_en", "category_zh") if k in document}
    known = {c["key"] for c in meta["candidates"]}
    responses = read_export(name, text)
    for r in responses:
        for task in r.tasks:
            if unknown := set(task.shown) - known:
                raise ValueError(f"{', '.join(sorted(unknown))} is not a candidate of research {meta['research_id']}")
    return build_report(meta, responses, method)
