"""A latent model of honest answers, and what it says about the ballots that do not fit it.

**The honest model.** Rater i answers factor f with x_if = clip(round(μ_f + l_i + e_if), 1, 5), where
the leniency l_i is shared by the rater's answers, the noise e_if ~ N(0, σ²) is not, and "not sure"
comes at a per-factor rate r_f. The clipping is a censoring: a lenient rater near the top of the
scale answers 5 everywhere because the scale stops there, and the model gives that all-fives ballot
the probability it has (it is not an outlier). The leniency's distribution is free in shape — masses
on a grid of leniencies (`_LENIENCY_GRID`), fitted by EM (Kiefer–Wolfowitz NPMLE) from a normal
start — so a polarising product's two camps are two lumps of it. A ballot's probability integrates
its leniency out over the grid, so every ballot, every pattern of answers and every neighbourhood of
a pattern has a computable probability under the model.

**Fitting** (`fit`), from weighted ballots (the weights of the robust pass before it, so a bloc
already down-weighted does not shape the model): per factor the total spread s_f and latent mean
μ_f that reproduce the answers' weighted mean and variance once rounded and clipped (a table of the
censored discretised normal); one spread pooled over factors (their median, so a bloc sinking one or
two factors cannot widen the model for them); and the leniency's share of it from the answers'
average correlation between factors.

**What it is used for** (`judge`):

* *excess mass* — 30 % of the ballots at (or within two hearts of) one answer pattern is wildly
  unlikely under the model: the expected count of honest ballots in that neighbourhood is N·P. Each
  ballot is weighed by min(1, (`_SLACK`·expected + `_SPARE`) / observed) over the neighbourhoods of
  radius 0, 1 and 2 (L1, in hearts), so a cluster counts at most about as much as honest raters
  would have put there. Copies one heart out, near-straight-liners and straight-liners near the top
  (whose pattern is plausible for one rater, but not for 60 of them) are this; so is the excess of
  a ballot's *profile* (scoring.profiles: its answers' values whatever the factors), in the weights
  and in the refits' — a bloc varying which factor it varies spreads over a dozen patterns;
* *excess of one answer in one factor* — the same for the cells of one factor holding one value
  (a bloc sinking one or two factors to 1 puts 30 % of a factor's answers at a value the model
  expects from 1–2 %), counted among the ballots not already crowded;
* *excess of a pair of answers at one end* — the same for two factors both answered 1 (or both 5),
  against the model's joint distribution with the leniency integrated out (so raters who agree
  because they share a leniency are expected), counted among the ballots not already crowded or
  careless. On a poor product honest raters give many 1s, and a bloc sinking two factors to 1 was
  within 1.5× of the honest count in each factor alone, not in the pair (two sunk 0.084 → 0.069,
  two lifted 0.082 → 0.070 at 30 %, 20 rounds). It weighs the answers but not the model's refits:
  in the refits, in a mix of targeted blocs and copies, it took in the honest raters of a round
  (0.25 off; mix 0.053 → 0.066);
* *careless raters* (scoring.careless) — a two-class mixture, the honest model against answers
  independent across factors, each uniform over 1..5 or uniform plus a spike at one value, fitted by
  EM (class share and spikes): each ballot's probability of the careless class. A random clicker is
  far more likely under uniform answers than under one leniency plus noise, over six factors; a bloc
  answering like the crowd but sinking two factors is a class with two spikes at 1; a bloc of
  (near-)straight fives, started from the crowded ballots at an end of the scale, a class with a
  spike at 5 everywhere. The version with the largest BIC margin is kept (if any).
* *a targeted class* (scoring.targeted) — honest answers but for a spike at 1 or 5 in a few factors,
  the leniency read from the ballot's other answers: blocs sinking or lifting one or two factors.

**Refits** (scoring.weighting `_judge`), made safe for other honest rounds
(tests/scoring/test_honest_rounds.py): with 8–10 factors and noisy raters the refits ran away — the
refit weight of a ballot whose neighbourhood expects far fewer than one honest ballot was ~1.5× its
own probability, so each refit was weighted by the model's density, came out narrower and shifted,
and the careless class grew (pi 0.44, rounds 0.3–0.56 off). The refit now counts the ballot itself
as no excess (`_FIT_SELF`); the careless class is also fitted as plain uniform answers (one
parameter) and the better of the two by BIC kept — the random clickers had been caught only by that
runaway (without it 0.123; 4 refits with it: 0.045); and the model's noise has a floor of 0.4 hearts
(near the ceiling it was fitted at 0.12). Honest rounds of that test, ours against the naive mean: 8
factors 0.028 (0.031) and 0.028 (0.029), 10 factors 0.016 (0.012), 0.077 (0.071) and 0.027 (0.024),
6 factors tight 0.025 (0.012), at most 1.2 % below half weight (before: up to 0.57 off, 67 % below
half). Over /work/notes/honestgrid.py's 270 cells of other rater models (skewed, extreme, 60-ballot
8-factor rounds), 90 stay more than 0.03 worse than the naive mean — as many as rh-score/2's (87;
rh-score/3 before: 105): that weakness is the robust passes', shared with rh-score/2, and open.

**Choices** (red-team table, scoring.weighting): a first fit on the weights alone explained the
blocs it was to find (near-straight fives: fitted means 0.4 too high); a normal leniency flagged a
polarised product's camp at the floor (one round 0.30 off, polarising 0.083 against the naive
0.073), the NPMLE leniency does not (0.076); a stricter refit (1× instead of 1.5× the expected
count) helped straight fives (0.12 → 0.05–0.08) but cost polarising rounds 0.091 and honest ones a 5
% share below half weight; a free categorical per factor in the careless class took in honest
ballots (20 % below half weight against one sunk factor), hence uniform-plus-one-spike; crowds and
values in excess may hold 1.5× the honest expectation + 3 ballots rather than 2× (copies one heart
out 0.072 → 0.063, one sunk factor 0.064 → 0.057; 1.25× was no better there and took polarising
rounds to 0.080).

Outside the suite's rater model (leniency 0.4, noise 0.8): with noisier raters (0.6, 1.0) honest
rounds are 0.036 (naive 0.033, rh-score/2 0.036); with tighter ones (0.25, 0.6) a polarising product
is 0.13 from the truth (naive 0.08, rh-score/2 0.10) — its camps crowd more than the model's moment-
fitted noise expects; a noise read from the spread within ballots fixed that (0.08) but let the
careless class take in noisy honest raters (0.040 against the naive 0.021), so it is not used. A
product at 4.9 hearts on every factor (beyond the suite's, whose factors average at most ~4.3): with
the latent means unbounded, one factor's went to 5.9 and 9 % of the honest ballots were named
`crowded`; bounded to 0.75–5.25 none are, and honest all-fives raters keep their weight at 4.3, 4.6
and 4.9 (tests/scoring/test_latent.py). Such a round is still 0.076 off (naive 0.018) — rh-score/2's
error there too, from the robust passes, not the model: open.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

from scoring.careless import careless_posterior
from scoring.matrix import Bools, Floats
from scoring.profiles import profile_counts
from scoring.screening import Ints
from scoring.targeted import targeted_cells

#: The leniencies (hearts) the model integrates over, and the EM steps fitting their masses.
_LENIENCY_GRID = np.linspace(-4.0, 4.0, 17)
_NPMLE_STEPS = 40
#: Grids the censored discretised normal's moments are tabulated on: latent mean and total spread.
_MU_GRID = np.linspace(-1.5, 7.5, 451)
_S_GRID = np.linspace(0.3, 3.0, 136)
#: How far beyond the scale's ends (hearts) a factor's latent mean may be fitted.
_MU_MARGIN = 0.25
#: The least answer noise (hearts) the model is fitted with (about an honest rater's rounding noise,
#: as the robust passes' `_CELL_SCALE_FLOOR`); it binds only near the scale's ends.
_NOISE_FLOOR = 0.4
#: Bounds on the leniency's share of the answers' variance (their average correlation).
_RHO_MIN, _RHO_MAX = 0.05, 0.85
#: A cluster counts at most `_SLACK` times the honest expectation, plus `_SPARE` ballots.
_SLACK = 1.5
_SPARE = 3.0
#: When the model is fitted again, a crowded region counts this many times its honest expectation.
_FIT_SLACK = 1.5
#: ... plus the ballot itself.
_FIT_SELF = 1.0


def _phi(z: Floats) -> Floats:
    """The standard normal CDF (Abramowitz–Stegun 7.1.26 for erf, error below 1.5e-7)."""
    a = np.abs(z) / np.sqrt(2.0)
    t = 1.0 / (1.0 + 0.3275911 * a)
    poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))))
    erf = 1.0 - poly * np.exp(-a * a)
    out: Floats = 0.5 * (1.0 + np.sign(z) * erf)
    return out


def answer_probs(center: Floats, sd: Floats) -> Floats:
    """P(clip(round(center + N(0, sd²))) = k) for k = 1..5, on a new last axis."""
    cuts = np.arange(1.5, 5.0, 1.0)
    cdf = _phi((cuts - center[..., None]) / sd[..., None])
    lower = np.concatenate([np.zeros((*cdf.shape[:-1], 1)), cdf], axis=-1)
    upper = np.concatenate([cdf, np.ones((*cdf.shape[:-1], 1))], axis=-1)
    out: Floats = np.maximum(upper - lower, 1e-12)
    return out


@functools.lru_cache(maxsize=1)
def _moment_tables() -> tuple[Floats, Floats]:
    """Mean and variance of the censored discretised normal over (`_MU_GRID`, `_S_GRID`)."""
    p = answer_probs(_MU_GRID[:, None] + 0 * _S_GRID[None, :], _S_GRID[None, :] + 0 * _MU_GRID[:, None])
    k = np.arange(1.0, 6.0)
    mean = (p * k).sum(axis=-1)
    var = (p * k * k).sum(axis=-1) - mean**2
    return mean, var


@dataclass(frozen=True)
class HonestModel:
    """The fitted honest model: latent means μ_f, noise σ, leniency τ and "not sure" rates r_f."""

    mu: Floats
    noise: float
    leniency: float
    unsure: Floats
    #: The leniency distribution's mass at each of `_LENIENCY_GRID` (None: normal with sd `leniency`).
    mass: Floats | None = None

    def node_probs(self) -> tuple[Floats, Floats]:
        """(the leniency's mass at each node (G,), answer probabilities (F, G, 5) at each node)."""
        if self.mass is None:
            weights = np.exp(-0.5 * (_LENIENCY_GRID / max(self.leniency, 1e-3)) ** 2)
            weights /= weights.sum()
        else:
            weights = self.mass
        center = self.mu[:, None] + _LENIENCY_GRID[None, :]
        return weights, answer_probs(center, np.full_like(center, self.noise))


def _log_nodes(digits: Ints, model: HonestModel) -> tuple[Floats, Floats, Floats]:
    """(log P(ballot | leniency node) (n × G), the nodes' masses, the answer probabilities)."""
    weights, probs = model.node_probs()
    table = np.concatenate([np.broadcast_to(np.log(model.unsure)[:, None, None], (*probs.shape[:2], 1)),
                            np.log(1 - model.unsure)[:, None, None] + np.log(probs)], axis=2)
    out = np.zeros((len(digits), len(weights)))
    for j in range(digits.shape[1]):
        out += table[j][:, digits[:, j]].T
    return out, weights, probs


def fit(x: Floats, rated: Bools, present: Bools, w: Floats) -> HonestModel:
    """The honest model fitted to answers `x` (n × F; `rated` where a rating is) with cell weights `w`."""
    w = np.where(rated, w, 0.0)
    mass = np.maximum(w.sum(axis=0), 1e-12)
    mean = (w * x).sum(axis=0) / mass
    var = (w * (x - mean) ** 2).sum(axis=0) / mass
    table_mean, table_var = _moment_tables()
    # Per factor, the (μ, s) whose rounded and clipped answers have this mean and variance.
    miss = (table_mean[None] - mean[:, None, None]) ** 2 + (table_var[None] - var[:, None, None]) ** 2
    best_s = _S_GRID[np.argmin(miss.reshape(len(mean), -1), axis=1) % len(_S_GRID)]
    used = mass > 1.0
    s = float(np.median(best_s[used])) if used.any() else 1.0
    # Then each μ_f again with the pooled spread.
    column = int(np.argmin(np.abs(_S_GRID - s)))
    mu = np.interp(mean, table_mean[:, column], _MU_GRID)
    # Near the ends the mean barely moves with μ, so a little chance in it throws μ far out (5.9 for
    # a factor at 4.9, which then made every honest 4 there look crowded): μ is kept within
    # `_MU_MARGIN` of the scale, where rounded and clipped answers can still tell it apart.
    mu = np.clip(mu, 1 - _MU_MARGIN, 5 + _MU_MARGIN)
    # The leniency's share: the answers' average correlation between factors (weighted by ballot).
    bw = w.max(axis=1)
    dev = np.where(rated, x - mean, 0.0)
    sd = np.sqrt(np.maximum(var, 1e-6))
    z = dev / sd
    both = rated.astype(np.float64)
    num = (bw[:, None] * z).T @ z
    den = (bw[:, None] * both).T @ both
    f = len(mean)
    off = ~np.eye(f, dtype=bool) & (den > 1.0)
    rho = float(np.clip((num[off] / den[off]).mean(), _RHO_MIN, _RHO_MAX)) if off.any() else 0.3
    present_w = np.maximum((bw[:, None] * present).sum(axis=0), 1e-12)
    unsure = np.clip((bw[:, None] * (present & ~rated)).sum(axis=0) / present_w, 1e-3, 0.999)
    # The noise is kept at least `_NOISE_FLOOR`: near the ceiling (a product at 4.85, most answers 5)
    # the spread and the correlation between factors are read from a few answers below 5, and the
    # noise came out at 0.12 hearts; every honest 4 was then unlikely, and the careless class took in
    # half of a round's honest ballots (skewed leniency 0.2, noise 0.5, 8 factors, 60 ballots: 0.088
    # off against the naive 0.026; with the floor 0.036, 10 % below half weight).
    model = HonestModel(mu, max(_NOISE_FLOOR, s * float(np.sqrt(1 - rho))), s * float(np.sqrt(rho)), unsure)
    # The leniency's distribution, free in shape (Kiefer–Wolfowitz NPMLE by EM on the grid's masses),
    # from the normal start: a polarising product's two camps are two lumps of it, and a camp at the
    # floor answering 1 everywhere is then as likely as it is.
    digits = np.where(rated, x, 0.0).astype(np.int64)
    log_node, mass, _ = _log_nodes(digits, model)
    like = np.exp(log_node - log_node.max(axis=1, keepdims=True))
    for _ in range(_NPMLE_STEPS):
        # The EM step Σ_i bw_i · like_ik·mass_k / Σ_l like_il·mass_l as two matrix-vector products: the
        # n × nodes posterior is never built (a 100k round's three temporaries of it took 5 % of a close).
        mass = mass * (like.T @ (bw / np.maximum(like @ mass, 1e-300)))
        mass = mass / max(mass.sum(), 1e-300)
    return HonestModel(mu, model.noise, model.leniency, unsure, mass)


def _pair_excess(digits: Ints, rated: Bools, live: Bools, u: Floats, weights: Floats, probs: Floats) -> Floats:
    """Per answer (n × F), the excess of two answers at the same end of the scale (both 1 or both 5)
    in a pair of factors: their (weighted) count against the count the model's joint distribution
    expects — with the leniency integrated out, so a polarised product's camp, whose answers agree
    because its raters share a leniency, is expected; the least over the answer's pairs."""
    n, f = digits.shape
    out = np.ones((n, f))
    d = np.clip(digits, 1, 5) - 1
    for a in range(f):
        for b in range(a + 1, f):
            cells = live & rated[:, a] & rated[:, b]
            if not cells.any():
                continue
            joint = np.einsum("g,gk,gl->kl", weights, probs[a], probs[b]).ravel()
            code = d[:, a] * 5 + d[:, b]
            wt = np.minimum(u[:, a], u[:, b])
            counts = np.bincount(code[cells], weights=wt[cells], minlength=25)
            keep = np.minimum(1.0, (_SLACK * joint * wt[cells].sum() + _SPARE) / np.maximum(counts, 1e-12))
            same_end = ((d[:, a] == 0) & (d[:, b] == 0)) | ((d[:, a] == 4) & (d[:, b] == 4))
            k = np.where(cells & same_end, keep[code], 1.0)
            out[:, a] = np.minimum(out[:, a], k)
            out[:, b] = np.minimum(out[:, b], k)
    return out


def _codes(digits: Ints) -> Ints:
    out: Ints = (digits * (6 ** np.arange(digits.shape[1], dtype=np.int64))).sum(axis=1)
    return out


@dataclass(frozen=True)
class Judgement:
    """What the honest model says about each ballot and answer (weights in [0, 1], 1 = fits)."""

    crowding: Floats  # (n,) excess mass around the ballot's pattern
    value: Floats  # (n, F) excess of the answer's value within its factor
    careless: Floats  # (n,) 1 − P(careless class)
    fitting: Floats  # (n,) the ballot's weight in the model's next fit
    pairs: Floats | None = None  # (n, F) excess of a pair of answers at one end; not in the refits
    targeted: Floats | None = None  # (n, F) 1 − P(the targeted class's spike); not in the refits


def judge(x: Floats, rated: Bools, alive: Floats, u: Floats, model: HonestModel, total: float) -> Judgement:
    """Weigh every ballot (or answer pattern: then `u` sums its ballots' weights) and answer against
    the fitted model (see the module docstring); `total` is the number of ballots the rows stand for."""
    n, f = x.shape
    live = alive > 0
    digits = np.where(rated, x, 0.0).astype(np.int64)
    log_node, weights, probs = _log_nodes(digits, model)
    g = len(weights)
    ratio1 = np.zeros((n, g))
    ratio2_single = np.zeros((n, g))
    ratio1_sq = np.zeros((n, g))
    padded = np.concatenate([np.zeros((*probs.shape[:2], 2)), probs, np.zeros((*probs.shape[:2], 2))], axis=2)
    for j in range(f):
        d = digits[:, j]
        # Neighbours: the same answer moved by one or two hearts (staying on the scale; "not sure" stays).
        here = padded[j][:, d + 1].T  # (n, G); index d+1 in padded is value d (d ≥ 1)
        safe = np.where(d > 0, 1, 0)[:, None]
        one = (padded[j][:, d].T + padded[j][:, d + 2].T) / np.maximum(here, 1e-300) * safe
        two = (padded[j][:, np.maximum(d - 1, 0)].T + padded[j][:, np.minimum(d + 3, 8)].T) / np.maximum(
            here, 1e-300) * safe
        ratio1 += one
        ratio1_sq += one * one
        ratio2_single += two
    top = log_node.max(axis=1, keepdims=True)
    node_like = weights[None, :] * np.exp(log_node - top)
    p0 = node_like.sum(axis=1)
    p1 = (node_like * (1 + ratio1)).sum(axis=1)
    p2 = (node_like * (1 + ratio1 + ratio2_single + (ratio1**2 - ratio1_sq) / 2)).sum(axis=1)
    scale = np.exp(top[:, 0])
    expected = np.stack([p0, p1, p2]) * scale[None, :] * total
    bw = np.where(live, u.max(axis=1), 0.0)
    observed = _neighbour_counts(digits, live, bw)
    # And the ballot's profile (scoring.profiles): its answers' values whatever the factors.
    symbols = np.concatenate([np.broadcast_to(model.unsure[:, None, None], (*probs.shape[:2], 1)),
                              (1 - model.unsure)[:, None, None] * probs], axis=2)
    profile = profile_counts(digits, live, bw, weights, symbols, total)
    expected, observed = np.vstack([expected, profile[0]]), np.vstack([observed, profile[1]])
    crowd = np.minimum(1.0, (_SLACK * expected + _SPARE) / np.maximum(observed, 1e-12)).min(axis=0)
    crowd = np.where(live, crowd, 1.0)
    # For fitting the model again: the same, but with no spare and only over the widest neighbourhood
    # (the one with enough honest ballots in it to be measured): the honest part of a crowded region.
    # The ballot itself is no excess (`_FIT_SELF`): without it, where a neighbourhood expects far
    # fewer than one honest ballot (8–10 factors, noisy raters: most of them), every lone ballot was
    # counted ~1.5 × its own probability, the refit was a fit weighted by the model's density, and
    # each refit came out narrower and shifted than the one before (pi of the careless class 0.44,
    # rounds 0.3–0.56 hearts off).
    fitting = np.where(live, np.minimum(1.0, (_FIT_SLACK * expected[2:] + _FIT_SELF)
                                        / np.maximum(observed[2:], 1e-12)).min(axis=0), 1.0)
    # One value in one factor: its (weighted) count against the count the model's marginal expects,
    # among the ballots not already found crowded (straight fives: otherwise the honest 5s of every
    # factor were weighed down with the bloc's, 0.7 on a good product; straight fives 0.062 -> 0.045).
    kept = u * crowd[:, None]
    marginal = (weights[None, :, None] * probs).sum(axis=1)  # (F, 5)
    value = np.ones((n, f))
    for j in range(f):
        cells = live & rated[:, j]
        if not cells.any():
            continue
        d = np.clip(digits[:, j], 1, 5) - 1
        counts = np.bincount(d[cells], weights=kept[cells, j], minlength=5)
        expect = marginal[j] * kept[cells, j].sum()
        keep = np.minimum(1.0, (_SLACK * expect + _SPARE) / np.maximum(counts, 1e-12))
        value[:, j] = np.where(cells, keep[d], 1.0)
    # A careless class (scoring.careless): random clickers, blocs sinking factors, blocs at an end.
    log_h = np.log(np.maximum(p0, 1e-300)) + top[:, 0]
    post = careless_posterior(digits, log_h, bw, model.unsure, crowd, total)
    careless = np.where(live, 1 - post, 1.0)
    # Two answers at one end in a pair of factors, counted among the ballots not already found
    # crowded or careless (otherwise a bloc of copies or straight fives also weighed down the honest
    # raters who share a pair of its answers: copies one heart out 0.063 -> 0.087).
    pairs = _pair_excess(digits, rated, live, u * (careless * crowd)[:, None], weights, probs)
    # A targeted class (scoring.targeted): honest answers but for a spike in some factors.
    targeted = targeted_cells(digits, log_node, weights, probs, bw * crowd * careless, total)
    return Judgement(crowd, value, careless, fitting, pairs, targeted)


def _neighbour_counts(digits: Ints, live: Bools, bw: Floats) -> Floats:
    """Per ballot, how many live ballots lie within L1 distance 0, 1 and 2 of its pattern (3 × n);
    "not sure" answers must match exactly."""
    n, f = digits.shape
    codes = _codes(digits)
    uniq, inverse = np.unique(codes[live], return_inverse=True)
    counts = np.bincount(inverse, weights=bw[live], minlength=len(uniq))
    if len(uniq) == 0:
        return np.zeros((3, n))
    udig = (uniq[:, None] // (6 ** np.arange(f, dtype=np.int64))[None, :]) % 6
    power = 6 ** np.arange(f, dtype=np.int64)
    out = np.zeros((3, len(uniq)))
    out[0] = counts

    def look(delta: Ints, ok: Bools) -> Floats:
        target = uniq + delta
        at = np.clip(np.searchsorted(uniq, target), 0, len(uniq) - 1)
        hit: Floats = np.where(ok & (uniq[at] == target), counts[at], 0.0)
        return hit

    one = np.zeros(len(uniq))
    two = np.zeros(len(uniq))
    for j in range(f):
        dj = udig[:, j]
        for step in (-2, -1, 1, 2):
            ok = (dj > 0) & (dj + step >= 1) & (dj + step <= 5)
            hit = look(np.full(len(uniq), step * power[j]), ok)
            if abs(step) == 1:
                one += hit
            else:
                two += hit
        for k in range(j + 1, f):
            dk = udig[:, k]
            for sj in (-1, 1):
                for sk in (-1, 1):
                    ok = (dj > 0) & (dk > 0) & (dj + sj >= 1) & (dj + sj <= 5) & (dk + sk >= 1) & (dk + sk <= 5)
                    two += look(np.full(len(uniq), sj * power[j] + sk * power[k]), ok)
    out[1] = out[0] + one
    out[2] = out[1] + two
    where = np.searchsorted(uniq, codes)
    where = np.clip(where, 0, len(uniq) - 1)
    result: Floats = np.where(live[None, :], out[:, where], 1.0)
    return result
