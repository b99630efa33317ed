"""Aggregation of accepted ballots into factor scores and an overall score, each with an interval.

Every answer counts with its cell weight u ∈ [0, 1] (`scoring.weighting`; 1 for an ordinary answer),
so "n" below is the answers' total weight U = Σu and the intervals use the effective number of
answers n_eff = U² / Σu² (Kish): a round whose weight sits on fewer ballots claims less certainty.
With every weight 1 all formulas are the unweighted ones.

**Factor score** — a Bayesian average ``(n·mean + w·prior) / (n + w)``: the posterior mean of a
normal–normal model in which the prior (the factor's mean over earlier published rounds of the
category, else the scale midpoint 3) is worth ``w = Method.prior_weight`` answers. The principled
``w`` is σ²/τ²: the variance of one answer around a product's true mean (≈ 1 heart² on a 1–5 scale)
over the variance of true means between products of a category (≈ 0.35, a spread of ±0.6 hearts),
so ``w = 3``. It steadies factors answered by few raters (30 % prior weight at n = 10) and is
negligible for a full round (1.5 % at n = 200, a bias of at most 0.03 for a truth 2 hearts from the
prior; the simulation checks honest rounds are not hurt).

**Factor interval** — a Student-t interval around the shrunk score with the posterior's variance:
``score ± t(1−α/2, n_eff−1) · σ̃ / √(n_eff + w)``, where ``σ̃² = ((n−1)s² + w·1²) / (n−1+w)`` also lends the
prior its w pseudo-answers of unit variance, so ten identical answers do not claim zero
uncertainty. Why t: the answers are bounded (1–5), so with n >= min_factor_n (10) the mean is close
to normal, and t's heavier tails cover the estimated variance. It is closed-form and deterministic —
a bootstrap would need a seed and ~1000× the work, and Wilson-style intervals fit proportions, not
5-point means. The interval is clipped to [1, 5].

**Overall** — the weighted mean of the sufficient factors' scores (equal weights by default),
weights renormalised over those factors. Its interval must respect that one rater's answers to
different factors are correlated (a lenient rater is lenient everywhere), so the factors' variances
cannot simply be added. We linearise the overall around the factor means (delta method for a
clustered sample): ballot i contributes ``g_i = Σ_f W_f u_if (x_if − m_f) / (U_f + w)`` over the factors it
rated, ``Var = N/(N−1) · Σ g_i²`` over the N accepted ballots, and the interval is
``overall ± t(1−α/2, N_eff−1) · √Var``, clipped to [1, 5].

**Leniency correction** (``Method.leniency``, off by default) — a rater whose answers ran, over
earlier rounds, ``offset`` hearts above the consensus across ``count`` answers has
``offset · count / (count + leniency_shrink)`` subtracted from each answer (clipped to 1–5) before
the means are taken (the weights are decided on the answers as given); raw means and distributions
stay as answered. The simulation study measures
whether this helps (it does not, measurably: see scoring/simulate.py), hence off.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from scoring.intervals import t_quantile
from scoring.matrix import Bools, Floats
from scoring.model import SCALE_MAX, SCALE_MIN, FactorSpec, Method, RaterHistory

#: Variance (hearts²) given to the prior's pseudo-answers in the factor interval.
PRIOR_ANSWER_VARIANCE = 1.0


@dataclass(frozen=True)
class FactorResult:
    """One factor's numbers; every number is None when the factor (or its round) is insufficient.
    `n` counts the answers of counted ballots, `n_eff` their effective number after weighting."""

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
    n_eff: float = 0.0

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
    n_eff: float = 0.0


def _clip(x: float) -> float:
    return min(float(SCALE_MAX), max(float(SCALE_MIN), x))


def leniency_shift(
    raters: Sequence[str] | None, history: Mapping[str, RaterHistory] | None, method: Method, n: int
) -> Floats:
    """Per ballot, the hearts subtracted by the leniency correction (0 when it is off)."""
    if not method.leniency or not history or raters is None:
        return np.zeros(n)
    out = np.zeros(n)
    for i, rater in enumerate(raters):
        h = history.get(rater)
        if h is not None and h.count > 0:
            out[i] = h.offset * h.count / (h.count + method.leniency_shrink)
    return out


def effective_n(u: Floats) -> float:
    """Kish's effective sample size of weights u: (Σu)² / Σu²."""
    squares = float(np.dot(u, u))
    return float(u.sum()) ** 2 / squares if squares > 0 else 0.0


def _interval(score: float, half: float) -> tuple[float, float]:
    return (_clip(score - half), _clip(score + half))


def _t(method: Method, n_eff: float) -> float:
    return t_quantile(1 - (1 - method.confidence) / 2, max(1, round(n_eff) - 1))


def aggregate(
    values: Floats,
    present: Bools,
    u: Floats,
    counted: Bools,
    factors: Sequence[FactorSpec],
    method: Method,
    *,
    shift: Floats | None = None,
    round_sufficient: bool = True,
) -> tuple[list[FactorResult], OverallResult]:
    """Factor results and the overall from the weighted answers of one round.

    `values` n × F (NaN = no rating), `present` (answered, "not sure" included), `u` the cell weights,
    `counted` the ballots that passed the hard rules, `shift` the leniency correction per ballot.
    With ``round_sufficient=False`` every number is withheld; only counts remain.
    """
    w = method.prior_weight
    rated = np.isfinite(values) & counted[:, None]
    x = np.where(rated, values, 0.0)
    u = np.where(rated, u, 0.0)
    adjusted = x if shift is None or not shift.any() else np.clip(x - shift[:, None], SCALE_MIN, SCALE_MAX)
    unsure = (present & ~np.isfinite(values) & counted[:, None]).sum(axis=0)
    results: list[FactorResult] = []
    means: dict[int, float] = {}
    for fi, spec in enumerate(factors):
        n = int(rated[:, fi].sum())
        uf = u[:, fi]
        total = float(uf.sum())
        n_eff = effective_n(uf)
        if not round_sufficient or total <= 0 or n_eff < method.min_factor_n - 1e-9:
            results.append(FactorResult(spec.key, spec.label_en, spec.label_zh, spec.weight, spec.prior_mean, n,
                                        int(unsure[fi]), None, None, None, None, None, n_eff))
            continue
        xf = adjusted[:, fi]
        m = float(np.dot(uf, xf)) / total
        ss = float(np.dot(uf, (xf - m) ** 2)) / total * n_eff  # weighted sum of squares, in answers
        sd = math.sqrt(ss / (n_eff - 1))
        score = (total * m + w * spec.prior_mean) / (total + w)
        sigma = math.sqrt((ss + w * PRIOR_ANSWER_VARIANCE) / (n_eff - 1 + w))
        half = _t(method, n_eff) * sigma / math.sqrt(n_eff + w)
        means[fi] = m
        c = np.bincount(x[rated[:, fi], fi].astype(np.int64), minlength=SCALE_MAX + 1)[SCALE_MIN:]
        results.append(FactorResult(
            key=spec.key, label_en=spec.label_en, label_zh=spec.label_zh, weight=spec.weight,
            prior=spec.prior_mean, n=n, unsure=int(unsure[fi]),
            distribution=(int(c[0]), int(c[1]), int(c[2]), int(c[3]), int(c[4])),
            mean=float(np.dot(uf, x[:, fi])) / total, sd=sd, score=_clip(score),
            ci=_interval(score, half), n_eff=n_eff,
        ))
    return results, _overall(adjusted, u, counted, factors, results, means, method)


def used_shares(factors: Sequence[FactorSpec], results: Sequence[FactorResult]) -> Floats:
    """Each factor's share of the overall: its weight over the sufficient factors' (0 if not used)."""
    weights = np.array([f.weight if r.score is not None and f.weight > 0 else 0.0
                        for f, r in zip(factors, results, strict=True)])
    total = weights.sum()
    out: Floats = weights / total if total > 0 else weights
    return out


def _overall(
    x: Floats,
    u: Floats,
    counted: Bools,
    factors: Sequence[FactorSpec],
    results: list[FactorResult],
    means: dict[int, float],
    method: Method,
) -> OverallResult:
    share = used_shares(factors, results)
    n_ballots = int(counted.sum())
    used = [fi for fi in range(len(factors)) if share[fi] > 0]
    if not used or n_ballots < 2:
        return OverallResult(None, None, n_ballots, ())
    score = math.fsum(float(share[fi]) * (results[fi].score or 0.0) for fi in used)
    w = method.prior_weight
    g = np.zeros(len(x))
    for fi in used:
        g += share[fi] * u[:, fi] * (x[:, fi] - means[fi]) / (u[:, fi].sum() + w)
    g = g[counted]
    var = n_ballots / (n_ballots - 1) * float(np.dot(g, g))
    n_eff = effective_n(u[counted].max(axis=1))
    half = _t(method, n_eff) * math.sqrt(var)
    return OverallResult(score=score, ci=_interval(score, half), n=n_ballots,
                         factors=tuple(factors[fi].key for fi in used), n_eff=n_eff)
