"""From the database to the pure scoring library and back: a round's ballots in, its report out."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain import ballot_rows
from bot.domain.ballot_rows import submitted_rows
from bot.domain.offloop import off_loop
from bot.domain.runtime import Runtime
from bot.domain.settings import scoring_method
from scoring.matrix import BallotMatrix
from scoring.model import FactorSpec, Method
from scoring.scorecard import score_matrix
from storage.db import EncodedJson
from storage.heap import gc_paused
from storage.models import Invitation, Round, RoundFactor
from storage.statuses import InvitationStatus, RoundStatus


def method_for(rt: Runtime, rnd: Round) -> Method:
    """The published method: the configured thresholds, and the round's own minimum of ballots."""
    return scoring_method(rt.config, min_ballots=rnd.min_ballots)


async def factor_specs(s: AsyncSession, rnd: Round) -> list[FactorSpec]:
    """The round's frozen factors, each with its prior: its mean over earlier published rounds of the
    category, so a new product starts from what the category is usually like, not from the midpoint."""
    earlier = await s.scalars(
        select(Round.report).where(
            Round.category_key == rnd.category_key, Round.status == RoundStatus.PUBLISHED, Round.id < rnd.id
        )
    )
    means: dict[str, list[float]] = {}
    for report in earlier:
        for f in (report or {}).get("factors", []):
            if f.get("mean") is not None and not f.get("insufficient"):
                means.setdefault(f["key"], []).append(float(f["mean"]))
    rows = await s.scalars(select(RoundFactor).where(RoundFactor.round_id == rnd.id).order_by(RoundFactor.position))
    return [
        FactorSpec(f.key, f.label_en, f.label_zh,
                   prior=round(sum(means[f.key]) / len(means[f.key]), 4) if f.key in means else None)
        for f in rows
    ]


def _report(rows: Iterable[Any], factors: list[FactorSpec], method: Method, round_id: int, sku: str, status: str,
            invited: int) -> dict[str, Any]:
    # Straight from the rows into arrays, with no record object per ballot; the collector stays off
    # while the rows' temporaries live (re-enabled, its passes walked them all: ~0.3 s at 100,000).
    with gc_paused():
        matrix = BallotMatrix.from_rows(rows, [f.key for f in factors])
        return score_matrix(matrix, factors, method).to_report(round_id, sku, status, invited)


async def compute(s: AsyncSession, rt: Runtime, rnd: Round, *, status_if_scored: str) -> dict[str, Any]:
    factors = await factor_specs(s, rnd)
    invited = await s.scalar(
        select(func.count()).select_from(Invitation)
        .where(Invitation.round_id == rnd.id, Invitation.status != InvitationStatus.CANCELLED)
    )
    method, count = method_for(rt, rnd), int(invited or 0)
    rid, sku = rnd.id, rnd.sku  # read here: an ORM attribute must not load on the worker thread
    # The collector stays off from the first row read to the report: on between the two, its first
    # pass on the loop walked the 100,000 rows just read (tens of ms).
    with gc_paused():
        rows = await submitted_rows(s, rid)
        # Building, screening and scoring 100,000 ballots is over a second of CPU: on a worker thread,
        # the event loop gets the interpreter back every few milliseconds and keeps answering taps.
        # The rows are let go a chunk at a time once the report is built (`ballot_rows.kept_while`).
        report = await off_loop(ballot_rows.kept_while, rows,
                                lambda kept: _report(kept, factors, method, rid, sku, status_if_scored, count))
    # The SPEC's later key: which version of the category's factors the round rated.
    return {**report, "factor_set": rnd.factor_set}


async def encoded(report: dict[str, Any]) -> EncodedJson:
    """The report as JSON text for its column, encoded on a worker thread: the session would encode it
    on the event loop when it flushes (~0.1 s for a 100,000-ballot round's screening list)."""
    return EncodedJson(await off_loop(_dumps, report))


# Items of a long list encoded per `json.dumps` call. One call is one uninterrupted C call that keeps
# the interpreter from the loop: the whole report of a 100k round at once held it 50–95 ms.
_DUMPS_CHUNK = 500


def _dumps(report: dict[str, Any]) -> str:
    """`json.dumps(report)`, the same text, encoded a key — and a long list `_DUMPS_CHUNK` items — at a
    time, so the loop gets the interpreter between calls."""
    if not all(isinstance(key, str) for key in report):
        return json.dumps(report)

    def value(v: Any) -> str:
        if not isinstance(v, list) or len(v) <= _DUMPS_CHUNK:
            return json.dumps(v)
        return "[" + ", ".join(json.dumps(v[i:i + _DUMPS_CHUNK])[1:-1] for i in range(0, len(v), _DUMPS_CHUNK)) + "]"

    return "{" + ", ".join(f"{json.dumps(key)}: {value(v)}" for key, v in report.items()) + "}"
