"""The scorecard of a round and `score_round`, the one entry point that screens and aggregates."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from scoring.aggregate import FactorResult, OverallResult, aggregate
from scoring.model import BallotRecord, FactorSpec, Method, RaterHistory
from scoring.screening import REASONS, SOFT_REASONS, Verdict, screen

#: Report statuses that mean "the round is over": those become "insufficient" without enough ballots.
_FINAL_STATUSES = frozenset({"closed", "published", "insufficient"})


def _r2(x: float | None) -> float | None:
    return None if x is None else round(x, 2)


def _ci(ci: tuple[float, float] | None) -> list[float] | None:
    return None if ci is None else [round(ci[0], 2), round(ci[1], 2)]


@dataclass(frozen=True)
class Scorecard:
    """A round's screened and aggregated result."""

    submitted: int
    accepted: int
    excluded: Mapping[str, int]
    flagged: Mapping[str, int]
    factors: tuple[FactorResult, ...]
    overall: OverallResult
    method: Method
    verdicts: tuple[Verdict, ...]

    @property
    def method_version(self) -> str:
        return self.method.version

    @property
    def insufficient(self) -> bool:
        """Fewer accepted ballots than the method's minimum: no number may be published."""
        return self.accepted < self.method.min_ballots

    def to_report(self, round_id: int | str | None, sku: str, status: str, invited: int) -> dict[str, Any]:
        """The SPEC's report JSON (plus explanatory extras), numbers rounded to 2 decimals.

        A final status ("closed", "published") becomes "insufficient" when the round is.
        """
        if self.insufficient and status in _FINAL_STATUSES:
            status = "insufficient"
        factors = []
        for f in self.factors:
            factors.append(
                {
                    "key": f.key,
                    "n": f.n,
                    "mean": _r2(f.mean),
                    "score": _r2(f.score),
                    "ci": _ci(f.ci),
                    "label_en": f.label_en,
                    "label_zh": f.label_zh,
                    "weight": f.weight,
                    "prior": _r2(f.prior),
                    "unsure": f.unsure,
                    "distribution": None if f.distribution is None else list(f.distribution),
                    "insufficient": f.insufficient,
                }
            )
        return {
            "round_id": round_id,
            "sku": sku,
            "status": status,
            "ballots": {
                "submitted": self.submitted,
                "accepted": self.accepted,
                "excluded": dict(self.excluded),
                "flagged": dict(self.flagged),
            },
            "invited": invited,
            "overall": {
                "score": _r2(self.overall.score),
                "ci": _ci(self.overall.ci),
                "n": self.overall.n,
                "factors": list(self.overall.factors),
            },
            "factors": factors,
            "method": self.method_version,
            "method_params": self.method.to_dict(),
            "insufficient": self.insufficient,
            "min_ballots": self.method.min_ballots,
            # Every ballot that was excluded or flagged, with its reasons, so counts can be traced.
            "screening": [
                {"ballot": v.ballot, "accepted": v.accepted, "reasons": list(v.reasons), "flags": list(v.flags)}
                for v in self.verdicts
                if v.reasons or v.flags
            ],
        }


def score_round(
    ballots: Sequence[BallotRecord],
    factors: Sequence[FactorSpec],
    method: Method | None = None,
    *,
    rater_history: Mapping[str, RaterHistory] | None = None,
) -> Scorecard:
    """Screen a round's ballots and aggregate the accepted ones into a scorecard."""
    method = method or Method()
    keys = [f.key for f in factors]
    if len(set(keys)) != len(keys):
        raise ValueError("factor keys must be unique")
    verdicts = screen(ballots, factors, method)
    accepted = [b for b, v in zip(ballots, verdicts, strict=True) if v.accepted]
    excluded_counts = {code: 0 for code in REASONS}
    flagged_counts = {code: 0 for code in REASONS if code in SOFT_REASONS}
    for v in verdicts:
        if v.primary_reason is not None:
            excluded_counts[v.primary_reason] += 1
        for flag in v.flags:
            flagged_counts[flag] += 1
    sufficient = len(accepted) >= method.min_ballots
    factor_results, overall = aggregate(
        accepted, factors, method, rater_history=rater_history, round_sufficient=sufficient
    )
    if not sufficient:
        overall = OverallResult(None, None, len(accepted), ())
    return Scorecard(
        submitted=len(ballots),
        accepted=len(accepted),
        excluded={k: n for k, n in excluded_counts.items() if n},
        flagged={k: n for k, n in flagged_counts.items() if n},
        factors=tuple(factor_results),
        overall=overall,
        method=method,
        verdicts=tuple(verdicts),
    )
