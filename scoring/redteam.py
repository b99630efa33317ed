"""The red-team simulation: rounds with a known truth, honest raters and attackers who know the method.

**Threat model.** The attacker *knows* the method: its code, every threshold (`Method`), and the
consensus of the round so far (in the suite: the honest ballots already in). It *controls* the
answers and the timing of its own ballots, which factors it pushes, and how many ballots it sends —
as many accounts as it can get past one-person-one-vote, i.e. a share p of the round's ballots. It
*wants* to move the published overall (or one factor) up or down, as far as it can, while its ballots
look accepted. It does not control the honest raters, the clock of the server or the hard evidence
(purchase dates, admin exclusions).

**What no method can fully stop.** Ballots indistinguishable from honest ones — "mimics", honest-
looking raters one heart more lenient than the crowd — are honest disagreement as far as the data
can tell; so is any bloc whose answers stay inside what honest raters plausibly say. Against those
the method promises only its *stated bound*: no ballot pulls the overall more than `pull_cap` times
a typical ballot, so a share p can move it by at most the number `scoring.bound` computes, printed
in every report and (for a typical round) by `/method`. The adaptive attacker here searches for
exactly such blocs.

**Honest raters.** As in `scoring.simulate`: leniency N(0, 0.4) per rater, noise N(0, 0.8) per
answer, rounded and clipped to 1–5, 5 % "not sure", about 8 s a factor (log-normal, σ 0.4 — which
makes ~4 % of honest ballots speeders under the hard rule). The *truth* is what honest raters report
on average (`honest_expectation`), averaged over the factors. Hard honest cases: a polarising
product (each rater ±1.5 hearts, half each way; the truth is the average of both camps), a niche
factor only 20 % can judge, and 30-ballot rounds (their minimum lowered so they publish).

**Strategies** (`scoring.attacks.STRATEGIES`, each parameterised; human timing throughout):
near-straight-liners at 5 or 1 with one or two answers varied, exact straight-liners at human speed,
a slow bomber, coordinated near-copies of one pattern pushed one or two hearts, targeted blocs that
answer like the crowd but sink or boost one or two factors, random clickers, half "not sure" plus
extreme answers, mimics (+1 heart) and the adaptive attacker, alone and in the mixes of `MIXES`, at
10 %, 20 % and 30 % of 200-ballot rounds.
"""


from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np

from scoring.attacks import (
    N_FACTORS,
    POLARISED_CAMP,
    STRATEGIES,
    Context,
    honest_values,
    human_seconds,
    matrix,
    stack,
)
from scoring.bound import overall_without
from scoring.matrix import BallotMatrix, Floats
from scoring.model import FactorSpec, Method
from scoring.scorecard import score_matrix
from scoring.simulate import _TOTAL_SD, honest_expectation

#: Honest-only scenarios: the hard cases an honest round can be.
HONEST_CASES = ("honest", "honest_polarising", "honest_niche_factor", "honest_30_ballots")
#: Mixes of strategies (equal shares of the fraud), besides each strategy alone.
MIXES = {
    "mix_all_patterns": ("near_straight_5_vary1", "near_straight_1_vary2", "copies_push2_jitter20",
                         "targeted_2_factors_to_1", "random_clicker_human_time", "unsure_half_plus_1s"),
    "mix_targeted_and_copies": ("targeted_1_factor_to_1", "targeted_2_factors_to_5", "copies_push1_jitter10"),
    "mix_mimic_and_targeted": ("mimic_plus1", "targeted_2_factors_to_1"),
}
SHARES = (0.1, 0.2, 0.3)


@dataclass(frozen=True)
class Cell:
    """One row of the table: a strategy (or honest case) at a fraud share, over `rounds` rounds."""

    strategy: str
    share: float
    rounds: int
    mae: float
    within: float
    naive_mae: float
    naive_within: float
    honest_below_half: float
    bound_held: bool
    worst_move_over_bound: float
    rerun_within_bound: float


def truth_of(qualities: Floats, *, polarised: bool = False) -> float:
    """The overall honest raters report on average (scoring.simulate's definition), per factor then
    averaged; for a polarising product, the average of its two camps."""
    if polarised:
        per = [(honest_expectation(q + POLARISED_CAMP) + honest_expectation(q - POLARISED_CAMP)) / 2
               for q in qualities.tolist()]
    else:
        per = [honest_expectation(q, _TOTAL_SD) for q in qualities.tolist()]
    return sum(per) / len(per)


def naive_overall(values: Floats) -> float:
    """Every submitted answer averaged per factor, then the factors averaged: no screening at all."""
    return float(np.mean(np.nanmean(values, axis=0)))


def factors_of(n: int = N_FACTORS) -> list[FactorSpec]:
    return [FactorSpec(f"f{i}", f"Factor {i}", f"因素{i}") for i in range(n)]


def simulate(rng: np.random.Generator, mix: Sequence[str], share: float, *, n_ballots: int = 200,
             case: str = "honest", method: Method | None = None) -> tuple[BallotMatrix, int, float]:
    """One round: (ballots with the honest ones first, how many are honest, the truth)."""
    method = method or Method()
    factors = factors_of()
    base = rng.uniform(2.2, 4.3)
    qualities = np.clip(base + rng.normal(0, 0.4, N_FACTORS), 1.1, 4.9)
    n_fraud = round(n_ballots * share)
    n_honest = n_ballots - n_fraud
    polarised, niche = case == "honest_polarising", case == "honest_niche_factor"
    values = honest_values(rng, qualities, n_honest, polarised=polarised, niche=niche)
    honest = matrix(values, human_seconds(rng, n_honest), "h")
    truth = truth_of(qualities, polarised=polarised)
    ballots = honest
    ctx = Context(rng, method, factors, qualities, honest)
    for i, name in enumerate(mix):
        k = n_fraud // len(mix) + (1 if i < n_fraud % len(mix) else 0)
        if k:
            ballots = stack(ballots, matrix(STRATEGIES[name](ctx, k), human_seconds(rng, k), f"{name}-"))
    return ballots, n_honest, truth


def run_cell(name: str, mix: Sequence[str], share: float, *, rounds: int, seed: int, n_ballots: int = 200,
             case: str = "honest", method: Method | None = None) -> Cell:
    """`rounds` seeded rounds of one strategy mix at one share, scored; see `Cell`."""
    method = method or Method()
    if n_ballots < method.min_ballots * 1.2:  # a small round's minimum is set low enough to publish
        method = replace(method, min_ballots=n_ballots // 2)
    rng = np.random.default_rng([seed, int(share * 100), *name.encode()])
    errors, naive, below, over, rerun = [], [], [], [], []
    for _ in range(rounds):
        ballots, n_honest, truth = simulate(rng, mix, share, n_ballots=n_ballots, case=case, method=method)
        card = score_matrix(ballots, factors_of(), method)
        score = card.overall.score
        assert score is not None
        errors.append(abs(score - truth))
        naive.append(abs(naive_overall(ballots.values) - truth))
        counted = card.counted
        below.append(float((card.weights[:n_honest][counted[:n_honest]] < 0.5).mean()))
        if n_honest < len(ballots):
            attackers = np.arange(len(ballots)) >= n_honest
            bound = card.bound_inputs.at(int(counted[attackers].sum()) / max(1, int(counted.sum())))
            assert bound is not None
            # The bound's own claim: the attackers out, every other weight as the method gave it.
            unclipped = float((np.clip(card.bound_inputs.at_scores(), 1, 5) * card.bound_inputs.share).sum())
            over.append(abs(unclipped - overall_without(card.bound_inputs, attackers)) - bound)
            # And, for information, against the method re-run on the honest ballots alone.
            honest_only = score_matrix(_head(ballots, n_honest), factors_of(), method).overall.score
            rerun.append(float(honest_only is not None and abs(score - honest_only) <= bound + 1e-9))
    return Cell(
        strategy=name, share=share, rounds=rounds,
        mae=float(np.mean(errors)), within=float(np.mean(np.array(errors) <= 0.15)),
        naive_mae=float(np.mean(naive)), naive_within=float(np.mean(np.array(naive) <= 0.15)),
        honest_below_half=float(np.mean(below)),
        bound_held=all(o <= 1e-9 for o in over), worst_move_over_bound=max(over, default=-math.inf),
        rerun_within_bound=float(np.mean(rerun)) if rerun else 1.0,
    )


def _head(m: BallotMatrix, n: int) -> BallotMatrix:
    return BallotMatrix(ids=m.ids[:n], values=m.values[:n], present=m.present[:n], seconds=m.seconds[:n],
                        owned_days=m.owned_days[:n], excluded=m.excluded[:n])


def run_suite(*, rounds: int = 100, seed: int = 20261207, shares: Sequence[float] = SHARES,
              strategies: Sequence[str] | None = None, method: Method | None = None) -> list[Cell]:
    """The whole table: honest cases, every strategy alone and every mix, at each share."""
    cells = [run_cell(case, (), 0.0, rounds=rounds, seed=seed, case=case, method=method,
                      n_ballots=30 if case == "honest_30_ballots" else 200) for case in HONEST_CASES]
    plans = [(name, (name,)) for name in (strategies or STRATEGIES)] + list(MIXES.items())
    for name, mix in plans:
        cells += [run_cell(name, mix, share, rounds=rounds, seed=seed, method=method) for share in shares]
    return cells


def format_table(cells: Sequence[Cell]) -> str:
    head = (f"{'strategy':<28} {'fraud':>5} {'rounds':>6} {'MAE':>6} {'≤0.15':>6} {'naive MAE':>9} "
            f"{'naive≤0.15':>10} {'honest w<.5':>11} {'bound':>5} {'rerun≤bound':>11}")
    lines = [head, "-" * len(head)]
    for c in cells:
        lines.append(f"{c.strategy:<28} {c.share:>5.0%} {c.rounds:>6} {c.mae:>6.3f} {c.within:>6.1%} "
                     f"{c.naive_mae:>9.3f} {c.naive_within:>10.1%} {c.honest_below_half:>11.1%} "
                     f"{'ok' if c.bound_held else 'FAIL':>5} {c.rerun_within_bound:>11.0%}")
    return "\n".join(lines)


if __name__ == "__main__":  # pragma: no cover - `python -m scoring.redteam` prints the table
    print(format_table(run_suite()))
