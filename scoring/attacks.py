"""The red team's strategies: each writes k attacking ballots' answers (k × F, NaN = "not sure").

Every strategy takes human time (the hard speeder rule is not what is being tested) and is
parameterised; `STRATEGIES` names the variants the suite runs. The adaptive attacker runs the method
itself on the round so far and keeps the pattern that moves the published overall most.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from scoring.matrix import BallotMatrix, Floats
from scoring.model import FactorSpec, Method
from scoring.scorecard import score_matrix
from scoring.simulate import LENIENCY_SD, NOISE_SD, UNSURE_PROBABILITY

SECONDS_PER_FACTOR = 8.0
N_FACTORS = 6
#: How far a polarising product's two camps sit from its middle, in hearts.
POLARISED_CAMP = 1.5
#: Share of raters able to judge the niche factor; the rest say "not sure" there.
NICHE_JUDGES = 0.2


@dataclass
class Context:
    """What an attacker knows when it writes its ballots: the method, the factors, the honest
    ballots of the round so far (hence its consensus) and a random source."""

    rng: np.random.Generator
    method: Method
    factors: list[FactorSpec]
    qualities: Floats
    honest: BallotMatrix

    @property
    def consensus(self) -> Floats:
        return np.asarray(np.nanmean(self.honest.values, axis=0), dtype=np.float64)

    @property
    def direction(self) -> float:
        """Towards the side of the scale with more room: where a push moves the overall most."""
        return 1.0 if float(np.nanmean(self.consensus)) < 3.0 else -1.0


def _answers(latent: Floats) -> Floats:
    out: Floats = np.clip(np.floor(latent + 0.5), 1, 5)
    return out


def human_seconds(rng: np.random.Generator, k: int) -> Floats:
    out: Floats = SECONDS_PER_FACTOR * N_FACTORS * np.exp(rng.normal(0, 0.4, k))
    return out


def honest_values(rng: np.random.Generator, qualities: Floats, k: int, *, shift: float = 0.0,
                  polarised: bool = False, niche: bool = False) -> Floats:
    """k honest ballots: quality + leniency + noise, rounded and clipped, some "not sure"."""
    lenient = rng.normal(0, LENIENCY_SD, (k, 1)) + shift
    if polarised:
        lenient += np.where(rng.random((k, 1)) < 0.5, POLARISED_CAMP, -POLARISED_CAMP)
    values = _answers(qualities[None, :] + lenient + rng.normal(0, NOISE_SD, (k, len(qualities))))
    values[rng.random(values.shape) < UNSURE_PROBABILITY] = np.nan
    if niche:
        values[rng.random(k) >= NICHE_JUDGES, 0] = np.nan
    return values


def matrix(values: Floats, seconds: Floats, prefix: str) -> BallotMatrix:
    n = len(values)
    return BallotMatrix(ids=[f"{prefix}{i}" for i in range(n)], values=values, present=np.ones(values.shape, bool),
                        seconds=seconds, owned_days=np.full(n, 30.0), excluded=np.zeros(n, bool))


def stack(a: BallotMatrix, b: BallotMatrix) -> BallotMatrix:
    return BallotMatrix(ids=[*a.ids, *b.ids], values=np.vstack([a.values, b.values]),
                        present=np.vstack([a.present, b.present]), seconds=np.concatenate([a.seconds, b.seconds]),
                        owned_days=np.concatenate([a.owned_days, b.owned_days]),
                        excluded=np.concatenate([a.excluded, b.excluded]))


Strategy = Callable[[Context, int], Floats]


def near_straight(value: float, varied: int) -> Strategy:
    """`value` everywhere but on `varied` random factors, which get a neighbouring answer."""

    def write(ctx: Context, k: int) -> Floats:
        f = len(ctx.factors)
        out = np.full((k, f), value)
        step = -1.0 if value >= 3 else 1.0
        for row in range(k):
            cols = ctx.rng.choice(f, size=varied, replace=False)
            out[row, cols] = value + step * ctx.rng.integers(1, 3, size=varied)
        return out

    return write


def straight(value: float) -> Strategy:
    def write(ctx: Context, k: int) -> Floats:
        return np.full((k, len(ctx.factors)), value)

    return write


def copies(push: float, jitter: float) -> Strategy:
    """A coordinated group: one pattern `push` hearts past the consensus, each copy with a share
    `jitter` of its answers moved by one."""

    def write(ctx: Context, k: int) -> Floats:
        base = np.clip(np.round(ctx.consensus + ctx.direction * push), 1, 5)
        out = np.tile(base, (k, 1))
        move = ctx.rng.random(out.shape) < jitter
        out = np.where(move, out + ctx.rng.choice([-1.0, 1.0], size=out.shape), out)
        return np.clip(out, 1, 5)

    return write


def targeted(n_factors: int, value: float) -> Strategy:
    """Like the crowd everywhere but `n_factors` factors (the same for the whole bloc) set to `value`."""

    def write(ctx: Context, k: int) -> Floats:
        out = honest_values(ctx.rng, ctx.qualities, k)
        cols = np.random.default_rng(len(ctx.honest)).choice(len(ctx.factors), n_factors, replace=False)
        out[:, cols] = value
        return out

    return write


def random_clicks() -> Strategy:
    def write(ctx: Context, k: int) -> Floats:
        return ctx.rng.integers(1, 6, size=(k, len(ctx.factors))).astype(np.float64)

    return write


def unsure_plus_extreme(value: float) -> Strategy:
    """As many "not sure" as the rules allow (half), the rest `value`."""

    def write(ctx: Context, k: int) -> Floats:
        f = len(ctx.factors)
        out = np.full((k, f), value)
        for row in range(k):
            out[row, ctx.rng.choice(f, size=f // 2, replace=False)] = np.nan
        return out

    return write


def mimic(shift: float) -> Strategy:
    """Honest-looking raters, `shift` hearts more lenient than the crowd."""

    def write(ctx: Context, k: int) -> Floats:
        return honest_values(ctx.rng, ctx.qualities, k, shift=shift * ctx.direction)

    return write


def adaptive(ctx: Context, k: int) -> Floats:
    """Runs the method on the round so far plus each candidate bloc, keeps the bloc that moves the
    published overall most, and sends a fresh sample of it. The candidates include what the method
    finds hardest (scoring/weighting.py): straight and near-straight blocs at the end of the scale
    with more room, copies one heart out, and blocs pushing two or three factors; it always runs
    the method it is given, so it searches against whatever the method now is."""
    base = score_matrix(ctx.honest, ctx.factors, ctx.method).overall.score or 3.0
    d = ctx.direction
    candidates: list[Strategy] = [mimic(s) for s in (0.5, 1.0, 1.5, 2.0, 3.0)]
    candidates += [targeted(n, 5.0 if d > 0 else 1.0) for n in (1, 2, 3)]
    candidates += [copies(p, 0.2) for p in (1.0, 2.0)]
    end = 5.0 if d > 0 else 1.0
    candidates += [near_straight(end, 1), near_straight(end, 2), straight(end), unsure_plus_extreme(end)]
    best, best_move = candidates[0], -1.0
    for candidate in candidates:
        bloc = matrix(candidate(ctx, k), human_seconds(ctx.rng, k), "a")
        moved = (score_matrix(stack(ctx.honest, bloc), ctx.factors, ctx.method).overall.score or base) - base
        if moved * d > best_move:
            best, best_move = candidate, moved * d
    return best(ctx, k)


#: The suite's strategies, by name: each a parameterised variant (suffix: + up, − down).
STRATEGIES: dict[str, Callable[[Context, int], Floats]] = {
    "near_straight_5_vary1": near_straight(5.0, 1),
    "near_straight_1_vary2": near_straight(1.0, 2),
    "straight_5_human_time": straight(5.0),
    "straight_1_slow_bomber": straight(1.0),
    "copies_push2_jitter20": copies(2.0, 0.2),
    "copies_push1_jitter10": copies(1.0, 0.1),
    "targeted_1_factor_to_1": targeted(1, 1.0),
    "targeted_2_factors_to_1": targeted(2, 1.0),
    "targeted_2_factors_to_5": targeted(2, 5.0),
    "random_clicker_human_time": random_clicks(),
    "unsure_half_plus_1s": unsure_plus_extreme(1.0),
    "mimic_plus1": mimic(1.0),
    "adaptive": adaptive,
}
#: Strategies no method can tell from honest raters: judged against the naive mean and the bound.
UNSTOPPABLE = frozenset({"mimic_plus1", "adaptive"})
