"""Aggregation of accepted ballots into factor scores and an overall score, each with an interval.

**Factor score** — a Bayesian average ``(n·mean + w·prior) / (n + w)``: the posterior mean of a
normal–normal model in which the prior (the factor's mean over earlier published rounds of the
category, else the scale midpoint 3) is worth ``w = Method.prior_weight`` answers. The principled
``w`` is σ²/τ²: the variance of one answer around a product's true mean (≈ 1 heart² on a 1–5 scale)
over the variance of true means between products of a category (≈ 0.35, a spread of ±0.6 hearts),
so ``w = 3``. It steadies factors answered by few raters (30 % prior weight at n = 10) and is
negligible for a full round (1.5 % at n = 200, a bias of at most 0.03 for a truth 2 hearts from the
prior; the simulation checks honest rounds are not hurt).

**Factor interval** — a Student-t interval around the shrunk score with the posterior's variance:
``score ± t(1−α/2, n−1) · σ̃ / √(n + w)``, where ``σ̃² = ((n−1)s² + w·1²) / (n−1+w)`` also lends the
prior its w pseudo-answers of unit variance, so ten identical answers do not claim zero
uncertainty. Why t: the answers are bounded (1–5), so with n >= min_factor_n (10) the mean is close
to normal, and t's heavier tails cover the estimated variance. It is closed-form and deterministic —
a bootstrap would need a seed and ~1000× the work, and Wilson-style intervals fit proportions, not
5-point means. The interval is clipped to [1, 5].

**Overall** — the weighted mean of the sufficient factors' scores (equal weights by default),
weights renormalised over those factors. Its interval must respect that one rater's answers to
different factors are correlated (a lenient rater is lenient everywhere), so the factors' variances
cannot simply be added. We linearise the overall around the factor means (delta method for a
clustered sample): ballot i contributes ``u_i = Σ_f W_f (x_if − m_f) / (n_f + w)`` over the factors it
rated, ``Var = N/(N−1) · Σ u_i²`` over the N accepted ballots, and the interval is
``overall ± t(1−α/2, N−1) · √Var``, clipped to [1, 5].

**Leniency correction** (``Method.leniency``, off by default) — a rater whose answers ran, over
earlier rounds, ``offset`` hearts above the consensus across ``count`` answers has
``offset · count / (count + leniency_shrink)`` subtracted from each answer (clipped to 1–5) before
the means are taken; raw means and distributions stay as answered. The simulation study measures
whether this helps (it does not, measurably: see scoring/simulate.py), hence off.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from scoring.intervals import t_quantile
from scoring.model import SCALE_MAX, SCALE_MIN, BallotRecord, FactorSpec, Method, RaterHistory

#: Variance (hearts²) given to the prior's pseudo-answers in the factor interval.
PRIOR_ANSWER_VARIANCE = 1.0


@dataclass(frozen=True)
class FactorResult:
    """One factor's numbers; every number is None when the factor (or its round) is insufficient."""

    key: str
    label_en: str
    label_zh: str
    weight: float
    prior: float
    n: int
    unsure: int
    distribution: tuple[int, int, int, int, int] | None
    mean: float | None
    sd: float | None
    score: float | None
    ci: tuple[float, float] | None

    @property
    def insufficient(self) -> bool:
        return self.score is None

    def label(self, lang: str) -> str:
        return self.label_zh if lang == "zh" else self.label_en


@dataclass(frozen=True)
class OverallResult:
    """The weighted mean of the sufficient factors' scores, None when no number may be shown."""

    score: float | None
    ci: tuple[float, float] | None
    n: int
    factors: tuple[str, ...]


def _clip(x: float) -> float:
    return min(float(SCALE_MAX), max(float(SCALE_MIN), x))


def _leniency_adjustment(
    ballots: Sequence[BallotRecord], history: Mapping[str, RaterHistory] | None, method: Method
) -> list[float]:
    if not method.leniency or not history:
        return [0.0] * len(ballots)
    out = []
    for b in ballots:
        h = history.get(b.rater)
        if h is None or h.count <= 0:
            out.append(0.0)
        else:
            out.append(h.offset * h.count / (h.count + method.leniency_shrink))
    return out


def _insufficient_factor(spec: FactorSpec, n: int, unsure: int) -> FactorResult:
    return FactorResult(
        key=spec.key,
        label_en=spec.label_en,
        label_zh=spec.label_zh,
        weight=spec.weight,
        prior=spec.prior_mean,
        n=n,
        unsure=unsure,
        distribution=None,
        mean=None,
        sd=None,
        score=None,
        ci=None,
    )


def aggregate(
    accepted: Sequence[BallotRecord],
    factors: Sequence[FactorSpec],
    method: Method,
    *,
    rater_history: Mapping[str, RaterHistory] | None = None,
    round_sufficient: bool = True,
) -> tuple[list[FactorResult], OverallResult]:
    """Factor results and the overall for the accepted ballots of one round.

    With ``round_sufficient=False`` (fewer accepted ballots than the round needs) every number is
    withheld; only counts remain.
    """
    w = method.prior_weight
    alpha_half = (1 - method.confidence) / 2
    adjust = _leniency_adjustment(accepted, rater_history, method)
    keys = [f.key for f in factors]

    # One pass over the ballots: per factor, (ballot index, adjusted value) plus raw tallies.
    values: list[list[tuple[int, float]]] = [[] for _ in keys]
    raw_sum = [0] * len(keys)
    counts = [[0, 0, 0, 0, 0] for _ in keys]
    unsure = [0] * len(keys)
    for bi, b in enumerate(accepted):
        a = b.answers
        shift = adjust[bi]
        for fi, k in enumerate(keys):
            if k not in a:
                continue
            v = a[k]
            if v is None:
                unsure[fi] += 1
                continue
            raw_sum[fi] += v
            counts[fi][v - SCALE_MIN] += 1
            values[fi].append((bi, _clip(v - shift) if shift else float(v)))

    results: list[FactorResult] = []
    means: dict[int, float] = {}
    for fi, spec in enumerate(factors):
        n = len(values[fi])
        if not round_sufficient or n < method.min_factor_n:
            results.append(_insufficient_factor(spec, n, unsure[fi]))
            continue
        m = math.fsum(x for _, x in values[fi]) / n
        ss = math.fsum((x - m) ** 2 for _, x in values[fi])
        sd = math.sqrt(ss / (n - 1))
        prior = spec.prior_mean
        score = (n * m + w * prior) / (n + w)
        sigma = math.sqrt((ss + w * PRIOR_ANSWER_VARIANCE) / (n - 1 + w))
        half = t_quantile(1 - alpha_half, n - 1) * sigma / math.sqrt(n + w)
        means[fi] = m
        c = counts[fi]
        results.append(
            FactorResult(
                key=spec.key,
                label_en=spec.label_en,
                label_zh=spec.label_zh,
                weight=spec.weight,
                prior=prior,
                n=n,
                unsure=unsure[fi],
                distribution=(c[0], c[1], c[2], c[3], c[4]),
                mean=raw_sum[fi] / n,
                sd=sd,
                score=_clip(score),
                ci=(_clip(score - half), _clip(score + half)),
            )
        )
    return results, _overall(accepted, factors, results, values, means, method)


def _overall(
    accepted: Sequence[BallotRecord],
    factors: Sequence[FactorSpec],
    results: list[FactorResult],
    values: list[list[tuple[int, float]]],
    means: dict[int, float],
    method: Method,
) -> OverallResult:
    used = [fi for fi, r in enumerate(results) if r.score is not None and factors[fi].weight > 0]
    total_weight = sum(factors[fi].weight for fi in used)
    n_ballots = len(accepted)
    if not used or total_weight <= 0 or n_ballots < 2:
        return OverallResult(None, None, n_ballots, ())
    score = math.fsum(factors[fi].weight * (results[fi].score or 0.0) for fi in used) / total_weight

    w = method.prior_weight
    u = [0.0] * n_ballots
    for fi in used:
        coef = factors[fi].weight / total_weight / (len(values[fi]) + w)
        m = means[fi]
        for bi, x in values[fi]:
            u[bi] += coef * (x - m)
    var = n_ballots / (n_ballots - 1) * math.fsum(x * x for x in u)
    half = t_quantile(1 - (1 - method.confidence) / 2, n_ballots - 1) * math.sqrt(var)
    return OverallResult(
        score=score,
        ci=(_clip(score - half), _clip(score + half)),
        n=n_ballots,
        factors=tuple(factors[fi].key for fi in used),
    )
