"""A simulation study: synthetic rounds with known truth, honest raters and fraud, scored two ways.

**Truth.** A factor has a latent quality q. An honest rater perceives q plus a personal leniency L
(the same on every factor and every round, L ~ N(0, 0.4)) plus noise e ~ N(0, 0.8), rounds to whole
hearts and is clipped to 1–5. The *truth* of a factor is what honest raters report on average:
E[clip(round(q + L + e))] over the population of raters — the number a perfect round with
infinitely many honest buyers would publish. The overall truth is the (equally) weighted mean of the
factor truths.

**Fraud** (an equal mix of four kinds, as a share of the round's ballots):

* ``speeder`` — favourable answers (3–5) clicked in 1–2.5 s per factor;
* ``straight5`` — fives on every factor, at a nearly normal pace;
* ``bomber1`` — a brand-bomber: ones on every factor, slowly, to look careful;
* ``random`` — uniformly random answers at about half the honest pace.

**Estimators.** The *published* overall (screened, shrunk, `score_round` with the default method)
and the *naive* mean (every submitted answer averaged, no screening) are compared with the truth.
The study also scores each round with the leniency correction on, fed with every honest rater's
history of offsets from earlier (simulated) rounds.
"""

from __future__ import annotations

import functools
import math
import random
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from statistics import NormalDist

from scoring.model import BallotRecord, FactorSpec, Method, RaterHistory
from scoring.scorecard import score_round

LENIENCY_SD = 0.4
NOISE_SD = 0.8
UNSURE_PROBABILITY = 0.05
HONEST_SECONDS_PER_FACTOR = 8.0
FRAUD_KINDS = ("speeder", "straight5", "bomber1", "random")
_T0 = datetime(2025, 1, 1, tzinfo=UTC)
_TOTAL_SD = math.hypot(LENIENCY_SD, NOISE_SD)


def _answer(latent: float) -> int:
    return min(5, max(1, math.floor(latent + 0.5)))


def honest_expectation(q: float, sd: float = _TOTAL_SD) -> float:
    """E[clip(round(q + Z))] for Z ~ N(0, sd): what honest raters report on average for quality q."""
    cdf = NormalDist(q, sd).cdf
    cuts = [cdf(k + 0.5) for k in range(1, 5)]  # P(answer <= k) for k = 1..4
    probs = [cuts[0], *(cuts[i] - cuts[i - 1] for i in range(1, 4)), 1 - cuts[3]]
    return sum((k + 1) * p for k, p in enumerate(probs))


@functools.lru_cache(maxsize=512)
def _cached_expectation(q: float) -> float:
    return honest_expectation(q)


@dataclass(frozen=True)
class SimRound:
    """One synthetic round and its truth."""

    ballots: list[BallotRecord]
    factors: list[FactorSpec]
    truth: dict[str, float]
    truth_overall: float
    history: dict[str, RaterHistory]


def _history(rng: random.Random, leniency: float) -> RaterHistory:
    count = rng.randint(0, 40)
    if count == 0:
        return RaterHistory(0.0, 0)
    total = 0.0
    for _ in range(count):
        q = rng.randint(180, 460) / 100  # on a grid so the expectations can be cached
        total += _answer(q + leniency + rng.gauss(0, NOISE_SD)) - _cached_expectation(q)
    return RaterHistory(total / count, count)


def simulate_round(
    rng: random.Random, *, n_ballots: int = 200, fraud_share: float = 0.0, n_factors: int = 6
) -> SimRound:
    """A round of `n_ballots` on a product with random factor qualities and the given fraud share."""
    factors = [FactorSpec(f"f{i}", f"Factor {i}", f"因素{i}") for i in range(n_factors)]
    base = rng.uniform(2.2, 4.3)
    qualities = [min(4.9, max(1.1, base + rng.gauss(0, 0.4))) for _ in factors]
    truth = {f.key: honest_expectation(q) for f, q in zip(factors, qualities, strict=True)}
    n_fraud = round(n_ballots * fraud_share)
    kinds = ["honest"] * (n_ballots - n_fraud) + [FRAUD_KINDS[i % 4] for i in range(n_fraud)]
    rng.shuffle(kinds)

    ballots: list[BallotRecord] = []
    history: dict[str, RaterHistory] = {}
    for i, kind in enumerate(kinds):
        rater = f"r{i}"
        answers: dict[str, int | None] = {}
        if kind == "honest":
            leniency = rng.gauss(0, LENIENCY_SD)
            history[rater] = _history(rng, leniency)
            for f, q in zip(factors, qualities, strict=True):
                unsure = rng.random() < UNSURE_PROBABILITY
                answers[f.key] = None if unsure else _answer(q + leniency + rng.gauss(0, NOISE_SD))
            per_factor = HONEST_SECONDS_PER_FACTOR * math.exp(rng.gauss(0, 0.4))
        elif kind == "speeder":
            answers = {f.key: rng.randint(3, 5) for f in factors}
            per_factor = rng.uniform(1.0, 2.5)
        elif kind == "straight5":
            answers = {f.key: 5 for f in factors}
            per_factor = 0.7 * HONEST_SECONDS_PER_FACTOR * math.exp(rng.gauss(0, 0.3))
        elif kind == "bomber1":
            answers = {f.key: 1 for f in factors}
            per_factor = 1.3 * HONEST_SECONDS_PER_FACTOR * math.exp(rng.gauss(0, 0.3))
        else:
            answers = {f.key: rng.randint(1, 5) for f in factors}
            per_factor = 0.5 * HONEST_SECONDS_PER_FACTOR * math.exp(rng.gauss(0, 0.4))
        started = _T0 + timedelta(minutes=i)
        ballots.append(
            BallotRecord(
                ballot=f"b{i}",
                rater=rater,
                started_at=started,
                submitted_at=started + timedelta(seconds=per_factor * n_factors),
                owned_days=rng.randint(7, 365),
                excluded_by_admin=False,
                answers=answers,
            )
        )
    truth_overall = sum(truth.values()) / len(truth)
    return SimRound(ballots, factors, truth, truth_overall, history)


def naive_scores(ballots: Sequence[BallotRecord], factors: Sequence[FactorSpec]) -> tuple[dict[str, float], float]:
    """Every submitted answer averaged per factor, and the factors' plain mean: no screening."""
    means = {}
    for f in factors:
        vals = [v for b in ballots if (v := b.answers.get(f.key)) is not None]
        means[f.key] = sum(vals) / len(vals)
    return means, sum(means.values()) / len(means)


@dataclass(frozen=True)
class StudyRow:
    """Errors against the truth over the rounds of one fraud share (absolute errors, 1–5 scale)."""

    fraud_share: float
    rounds: int
    published_overall_mae: float
    naive_overall_mae: float
    lenient_overall_mae: float
    published_factor_mae: float
    naive_factor_mae: float
    published_within_015: float
    naive_within_015: float
    published_overall_errors: tuple[float, ...]
    naive_overall_errors: tuple[float, ...]


def run_study(
    shares: Sequence[float] = (0.0, 0.1, 0.3),
    *,
    rounds: int = 200,
    n_ballots: int = 200,
    seed: int = 20250101,
    method: Method | None = None,
) -> list[StudyRow]:
    """Score `rounds` seeded rounds per fraud share; deterministic for a given seed."""
    method = method or Method()
    lenient = replace(method, leniency=True)
    rows = []
    for share in shares:
        rng = random.Random(f"{seed}:{share}")
        pub_o, naive_o, len_o, pub_f, naive_f = [], [], [], [], []
        for _ in range(rounds):
            sim = simulate_round(rng, n_ballots=n_ballots, fraud_share=share)
            card = score_round(sim.ballots, sim.factors, method)
            card_l = score_round(sim.ballots, sim.factors, lenient, rater_history=sim.history)
            naive_f_scores, naive_overall = naive_scores(sim.ballots, sim.factors)
            assert card.overall.score is not None and card_l.overall.score is not None
            pub_o.append(abs(card.overall.score - sim.truth_overall))
            len_o.append(abs(card_l.overall.score - sim.truth_overall))
            naive_o.append(abs(naive_overall - sim.truth_overall))
            for fr in card.factors:
                assert fr.score is not None
                pub_f.append(abs(fr.score - sim.truth[fr.key]))
                naive_f.append(abs(naive_f_scores[fr.key] - sim.truth[fr.key]))
        rows.append(
            StudyRow(
                fraud_share=share,
                rounds=rounds,
                published_overall_mae=_mean(pub_o),
                naive_overall_mae=_mean(naive_o),
                lenient_overall_mae=_mean(len_o),
                published_factor_mae=_mean(pub_f),
                naive_factor_mae=_mean(naive_f),
                published_within_015=sum(e <= 0.15 for e in pub_o) / rounds,
                naive_within_015=sum(e <= 0.15 for e in naive_o) / rounds,
                published_overall_errors=tuple(pub_o),
                naive_overall_errors=tuple(naive_o),
            )
        )
    return rows


def _mean(xs: Sequence[float]) -> float:
    return sum(xs) / len(xs)


def format_table(rows: Sequence[StudyRow]) -> str:
    """The study as a fixed-width text table."""
    head = (
        f"{'fraud':>5}  {'rounds':>6}  {'overall MAE':>11}  {'naive':>6}  {'lenient':>7}  "
        f"{'factor MAE':>10}  {'naive':>6}  {'≤0.15':>6}  {'naive ≤0.15':>11}"
    )
    lines = [head, "-" * len(head)]
    for r in rows:
        lines.append(
            f"{r.fraud_share:>5.0%}  {r.rounds:>6}  {r.published_overall_mae:>11.3f}  {r.naive_overall_mae:>6.3f}  "
            f"{r.lenient_overall_mae:>7.3f}  {r.published_factor_mae:>10.3f}  {r.naive_factor_mae:>6.3f}  "
            f"{r.published_within_015:>6.1%}  {r.naive_within_015:>11.1%}"
        )
    return "\n".join(lines)


def table(rounds: int = 200, n_ballots: int = 200, seed: int = 20250101) -> str:
    """Run the default study (0 %, 10 %, 30 % fraud) and return its table."""
    return format_table(run_study(rounds=rounds, n_ballots=n_ballots, seed=seed))


if __name__ == "__main__":  # pragma: no cover - a convenience for `python -m scoring.simulate`
    print(table())
