"""Exports that let anyone recompute a published score: pseudonymous ballots plus the method file.

`F.csv` has one row per submitted ballot — `ballot,rater,started_at,submitted_at,owned_days,
excluded_by_admin,weight`, then one column per factor key (1–5, empty for "not sure"). `weight` is the
weight the published method gave the ballot (0 for one a hard rule excluded); it is informative only:
`redheart score` recomputes every weight from the answers, and reads exports made before the column
existed just the same. `F.method.json`
holds the method version and parameters, the factors with weights and priors, and the round's
identity, so `redheart score F.csv` prints the same report as the published one.

**What pseudonymity promises.** An export names no customer, phone or Telegram account, and no
two rows of different rounds can be tied to one buyer through it:
* `rater` is an HMAC of the round and the customer under `identity.secret`: stable within a round
  (so one-person-one-vote can be checked), unrelated across rounds;
* `owned_days` is capped at the method's `min_ownership_days`: screening only asks whether it is
  below that minimum, and the exact figure would give away the purchase date
  (`submitted_at − owned_days`), the same in every round of the product and so a link between them.
  The few rows below the cap are a purchase days old at the round's time, which no later round
  shares;
* `ballot` is the ballot's row number, given when it was started, which says nothing about who.
What it does not promise: a buyer who knows their own answers and submission time can find their
own row, as in any published microdata.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import func, select

from bot.domain.ballot_rows import submitted_records
from bot.domain.clock import parse_time
from bot.domain.errors import BadInput, UnknownRound
from bot.domain.lifecycle import must_get
from bot.domain.runtime import Runtime
from bot.domain.scorecards import factor_specs, method_for
from scoring.model import BallotRecord, FactorSpec, Method, method_document, parse_method_document
from scoring.scorecard import score_round
from storage.models import Invitation, Round
from storage.statuses import InvitationStatus, RoundStatus

COLUMNS = ("ballot", "rater", "started_at", "submitted_at", "owned_days", "excluded_by_admin")
WEIGHT_COLUMN = "weight"


async def export_round(rt: Runtime, round_id: int) -> tuple[str, dict[str, Any]]:
    """The round's ballots as CSV text, and its method document."""
    async with rt.db.session() as s:
        rnd = await must_get(s, Round, round_id, UnknownRound(round_id=round_id))
        factors = await factor_specs(s, rnd)
        records = await submitted_records(s, round_id)
        invited = await s.scalar(
            select(func.count()).select_from(Invitation)
            .where(Invitation.round_id == round_id, Invitation.status != InvitationStatus.CANCELLED)
        )
        status = rnd.status
    method = method_for(rt, rnd)
    document = method_document(method, factors)
    document["round"] = {"round_id": round_id, "sku": rnd.sku, "status": status, "invited": int(invited or 0),
                         "factor_set": rnd.factor_set}
    weights = score_round(records, factors, method).weights.tolist()
    return ballots_csv(records, factors, owned_days_cap=method.min_ownership_days, weights=weights), document


def ballots_csv(records: Sequence[BallotRecord], factors: Sequence[FactorSpec], *, owned_days_cap: int,
                weights: Sequence[float] | None = None) -> str:
    """The export's CSV text; `owned_days` is capped at `owned_days_cap` (see the module docstring).
    Without `weights` the file has no weight column (the shape of exports before rh-score/2)."""
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([*COLUMNS, *([WEIGHT_COLUMN] if weights is not None else []), *(f.key for f in factors)])
    for i, b in enumerate(records):
        writer.writerow([
            b.ballot, b.rater, b.started_at.isoformat(), b.submitted_at.isoformat(),
            "" if b.owned_days is None else min(b.owned_days, owned_days_cap), 1 if b.excluded_by_admin else 0,
            *([f"{weights[i]:.3f}"] if weights is not None else []),
            *("" if b.answers.get(f.key) is None else b.answers[f.key] for f in factors),
        ])
    return out.getvalue()


def read_ballots(name: str, text: str, factors: Sequence[FactorSpec] | None = None) -> tuple[
    list[BallotRecord], list[FactorSpec]
]:
    """Parses an export (or any CSV of that shape); errors are `FILE:LINE: what is wrong`."""
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"), newline="")))
    if not rows or tuple(rows[0][: len(COLUMNS)]) != COLUMNS or len(rows[0]) <= len(COLUMNS):
        raise BadInput(detail=f"{name}:1: header must be {','.join(COLUMNS)} then one column per factor key")
    first = len(COLUMNS) + (rows[0][len(COLUMNS)] == WEIGHT_COLUMN)  # the weight is recomputed, not read
    keys = rows[0][first:]
    if not keys:
        raise BadInput(detail=f"{name}:1: no factor columns after {','.join(rows[0])}")
    known = {f.key: f for f in factors or ()}
    specs = [known.get(k) or FactorSpec(k, k, k) for k in keys]
    records: list[BallotRecord] = []
    for line, row in enumerate(rows[1:], start=2):
        if not row:
            continue
        try:
            if len(row) != len(rows[0]):
                raise ValueError(f"expected {len(rows[0])} cells, got {len(row)}")
            answers: dict[str, int | None] = {}
            for key, cell in zip(keys, row[first:], strict=True):
                value = int(cell) if cell.strip() else None
                if value is not None and not 1 <= value <= 5:
                    raise ValueError(f"{key} must be 1-5 or empty, got {cell}")
                answers[key] = value
            records.append(BallotRecord(
                ballot=row[0], rater=row[1], started_at=parse_time(row[2]), submitted_at=parse_time(row[3]),
                owned_days=int(row[4]) if row[4].strip() else None,
                excluded_by_admin=row[5].strip() in ("1", "true", "True"), answers=answers,
            ))
        except ValueError as exc:
            raise BadInput(detail=f"{name}:{line}: {exc}") from None
    return records, specs


def score_export(name: str, text: str, document: Mapping[str, Any] | None) -> dict[str, Any]:
    """The SPEC report for exported ballots, with the exported method when given, else defaults."""
    method, factors = parse_method_document(document) if document else (Method(), [])
    records, specs = read_ballots(name, text, factors)
    meta = dict((document or {}).get("round", {}))
    card = score_round(records, specs, method)
    report = card.to_report(meta.get("round_id"), str(meta.get("sku", "")),
                            str(meta.get("status", RoundStatus.CLOSED)), int(meta.get("invited", 0)))
    return {**report, "factor_set": meta.get("factor_set")}  # the version the exported round rated
