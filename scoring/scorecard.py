"""The scorecard of a round and `score_round`, the one entry point that screens, weighs and aggregates."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np
import numpy.typing as npt

from scoring.aggregate import FactorResult, OverallResult, aggregate, leniency_shift, used_shares
from scoring.bound import BOUND_SHARES, BoundInputs
from scoring.matrix import BallotMatrix, Floats
from scoring.model import BallotRecord, FactorSpec, Method, RaterHistory
from scoring.screening import BIT, HARD_REASONS, REASONS, SOFT_REASONS, STRAIGHT_LINER, Ints, hard_rules, straight_lines
from scoring.weighting import weigh

#: Report statuses that mean "the round is over": those become "insufficient" without enough ballots.
_FINAL_STATUSES = frozenset({"closed", "published", "insufficient"})
#: The weight bands the report counts ballots in (a weight of 0 comes from a hard rule or weighting).
WEIGHT_BANDS = ("full", "half_or_more", "under_half", "zero")


def _r2(x: float | None) -> float | None:
    return None if x is None else round(x, 2)


def _ci(ci: tuple[float, float] | None) -> list[float] | None:
    return None if ci is None else [round(ci[0], 2), round(ci[1], 2)]


def _codes(mask: int, codes: Sequence[str]) -> list[str]:
    return [c for c in codes if mask & BIT[c]]


class Verdict(NamedTuple):
    """One ballot's outcome: its weight, the hard `reasons` that set it to 0 (then not accepted), and
    the soft `flags` that explain a weight below 1 (or, like straight_liner, are only reported)."""

    ballot: str
    accepted: bool
    reasons: tuple[str, ...] = ()
    flags: tuple[str, ...] = ()
    weight: float = 1.0

    @property
    def primary_reason(self) -> str | None:
        """The reason the ballot is counted under among the excluded, None when accepted."""
        return self.reasons[0] if self.reasons else None


@dataclass(frozen=True)
class Scorecard:
    """A round's screened, weighted and aggregated result. `accepted` counts the ballots that passed
    the hard rules: each is counted, with its weight in [0, 1]."""

    submitted: int
    accepted: int
    excluded: Mapping[str, int]
    flagged: Mapping[str, int]
    factors: tuple[FactorResult, ...]
    overall: OverallResult
    method: Method
    ids: Sequence[str]
    weights: Floats
    masks: Ints
    bound_inputs: BoundInputs

    @property
    def method_version(self) -> str:
        return self.method.version

    @property
    def insufficient(self) -> bool:
        """Fewer accepted ballots than the method's minimum: no number may be published."""
        return self.accepted < self.method.min_ballots

    @property
    def counted(self) -> npt.NDArray[np.bool_]:
        """Per ballot: it passed the hard rules (it counts, with its weight)."""
        hard = sum(BIT[code] for code in HARD_REASONS)
        out: npt.NDArray[np.bool_] = (self.masks & hard) == 0
        return out

    @property
    def bound(self) -> dict[str, float | None]:
        """The stated bound at the report's shares (10 %, 20 %, 30 % of the counted ballots)."""
        return {f"{p:g}": self.bound_inputs.at(p) for p in BOUND_SHARES}

    @property
    def verdicts(self) -> tuple[Verdict, ...]:
        """Every ballot's verdict, in the ballots' order (built on demand: one object per ballot)."""
        return tuple(self.verdict(i) for i in range(self.submitted))

    def verdict(self, i: int) -> Verdict:
        mask = int(self.masks[i])
        reasons = tuple(_codes(mask, HARD_REASONS))
        return Verdict(self.ids[i], not reasons, reasons, tuple(_codes(mask, SOFT_REASONS)),
                       round(float(self.weights[i]), 2))

    def bands(self) -> dict[str, int]:
        w = np.round(self.weights, 2)
        return {"full": int((w >= 1).sum()), "half_or_more": int(((w >= 0.5) & (w < 1)).sum()),
                "under_half": int(((w > 0) & (w < 0.5)).sum()), "zero": int((w <= 0).sum())}

    def by_reason(self) -> dict[str, int]:
        """Ballots per reason, each ballot under every reason it has (so they may add up to more)."""
        counts = {code: int(((self.masks & BIT[code]) > 0).sum()) for code in REASONS}
        return {code: n for code, n in counts.items() if n}

    def to_report(self, round_id: int | str | None, sku: str, status: str, invited: int) -> dict[str, Any]:
        """The SPEC's report JSON (plus explanatory extras), numbers rounded to 2 decimals.

        A final status ("closed", "published") becomes "insufficient" when the round is.
        """
        if self.insufficient and status in _FINAL_STATUSES:
            status = "insufficient"
        factors = [
            {"key": f.key, "n": f.n, "mean": _r2(f.mean), "score": _r2(f.score), "ci": _ci(f.ci),
             "label_en": f.label_en, "label_zh": f.label_zh, "weight": f.weight, "prior": _r2(f.prior),
             "unsure": f.unsure, "n_eff": round(f.n_eff, 1),
             "distribution": None if f.distribution is None else list(f.distribution), "insufficient": f.insufficient}
            for f in self.factors
        ]
        listed = np.flatnonzero((self.masks != 0) | (np.round(self.weights, 2) < 1))
        return {
            "round_id": round_id,
            "sku": sku,
            "status": status,
            "ballots": {
                "submitted": self.submitted,
                "accepted": self.accepted,
                "excluded": dict(self.excluded),
                "flagged": dict(self.flagged),
                "by_reason": self.by_reason(),
                "weight_bands": self.bands(),
                "effective": round(float(self.weights.sum()), 1),
            },
            "invited": invited,
            "overall": {"score": _r2(self.overall.score), "ci": _ci(self.overall.ci), "n": self.overall.n,
                        "n_eff": round(self.overall.n_eff, 1), "factors": list(self.overall.factors)},
            "factors": factors,
            "method": self.method_version,
            "method_params": self.method.to_dict(),
            "insufficient": self.insufficient,
            "min_ballots": self.method.min_ballots,
            # The most that 10 %, 20 %, 30 % of the counted ballots can move the overall (scoring.bound).
            "stated_bound": {k: _r2(v) for k, v in self.bound.items()},
            # Every ballot excluded, flagged or weighed below 1, with its weight and reasons.
            "screening": self._screening(listed),
        }

    def _screening(self, listed: Ints) -> list[dict[str, Any]]:
        """The report's entry for each ballot of `listed`, as `verdict` gives it: the reasons decoded
        once per distinct mask (a round has a handful; a 100k round can list tens of thousands)."""
        decoded = {m: (_codes(m, HARD_REASONS), _codes(m, SOFT_REASONS))
                   for m in np.unique(self.masks[listed]).tolist()}
        out = []
        for i, mask, weight in zip(listed.tolist(), self.masks[listed].tolist(), self.weights[listed].tolist(),
                                   strict=True):
            reasons, flags = decoded[mask]
            out.append({"ballot": self.ids[i], "accepted": not reasons, "weight": round(weight, 2),
                        "reasons": list(reasons), "flags": list(flags)})
        return out


def score_round(
    ballots: Sequence[BallotRecord],
    factors: Sequence[FactorSpec],
    method: Method | None = None,
    *,
    rater_history: Mapping[str, RaterHistory] | None = None,
) -> Scorecard:
    """Screen, weigh and aggregate a round's ballots into a scorecard."""
    matrix = BallotMatrix.from_records(ballots, [f.key for f in factors])
    raters = [b.rater for b in ballots] if rater_history else None
    return score_matrix(matrix, factors, method, raters=raters, rater_history=rater_history)


def score_matrix(
    matrix: BallotMatrix,
    factors: Sequence[FactorSpec],
    method: Method | None = None,
    *,
    raters: Sequence[str] | None = None,
    rater_history: Mapping[str, RaterHistory] | None = None,
) -> Scorecard:
    """`score_round` on ballots already in arrays (the round close builds them straight from rows)."""
    method = method or Method()
    keys = [f.key for f in factors]
    if len(set(keys)) != len(keys):
        raise ValueError("factor keys must be unique")
    masks = hard_rules(matrix, method)
    counted = masks == 0
    masks |= np.where(straight_lines(matrix, method), BIT[STRAIGHT_LINER], 0)
    factor_weights = np.array([f.weight for f in factors], dtype=np.float64)
    weights = weigh(matrix.values, counted.astype(np.float64), factor_weights, method)
    masks |= weights.reasons
    n_counted = int(counted.sum())
    sufficient = n_counted >= method.min_ballots
    shift = leniency_shift(raters, rater_history, method, len(matrix))
    factor_results, overall = aggregate(matrix.values, matrix.present, weights.cell, counted, factors, method,
                                        shift=shift, round_sufficient=sufficient)
    if not sufficient:
        overall = OverallResult(None, None, n_counted, ())
    share = used_shares(factors, factor_results)
    rated = np.isfinite(matrix.values) & counted[:, None]
    priors = np.array([f.prior_mean for f in factors], dtype=np.float64)
    x = np.clip(np.where(rated, matrix.values, 0.0) - shift[:, None], 1, 5) if shift.any() else matrix.values
    inputs = BoundInputs(x, rated, weights.cell, priors, share if overall.score is not None else 0 * share,
                         method.prior_weight, n_counted)
    excluded: dict[str, int] = {}
    flagged: dict[str, int] = {}
    for mask, n in zip(*np.unique(masks[masks != 0], return_counts=True), strict=True):
        hard = _codes(int(mask), HARD_REASONS)
        target, code = (excluded, hard[0]) if hard else (flagged, _codes(int(mask), SOFT_REASONS)[0])
        target[code] = target.get(code, 0) + int(n)
    order = {code: i for i, code in enumerate(REASONS)}
    return Scorecard(
        submitted=len(matrix),
        accepted=n_counted,
        excluded=dict(sorted(excluded.items(), key=lambda kv: order[kv[0]])),
        flagged=dict(sorted(flagged.items(), key=lambda kv: order[kv[0]])),
        factors=tuple(factor_results),
        overall=overall,
        method=method,
        ids=matrix.ids,
        weights=weights.ballot,
        masks=masks,
        bound_inputs=inputs,
    )
