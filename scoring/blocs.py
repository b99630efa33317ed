"""Blocs: a two-group mixture of normals fitted by EM per column — a latent-class model of "the crowd"
and "a group apart" (scoring.weighting step 4) — and the weighted quantiles it starts from."""

from __future__ import annotations

import numpy as np

from scoring.matrix import Bools, Floats
from scoring.screening import Ints

#: The narrowest spread (hearts) a group of offsets is fitted with: copies of one ballot have none.
_BLOC_SD_FLOOR = 0.05
_EM_STEPS = 25
_EM_ROWS = 2_000
#: Fewer rows than this and no two-group fit is trusted: in 30-ballot honest rounds the fit found
#: "blocs" in chance clusters (mean error 0.105 against the naive mean's 0.076).
_BLOC_MIN_ROWS = 50
#: How many of the crowd's standard deviations a group at the very end of the range must sit from it
#: (the callers say how far for the others: scoring.weighting). There, at the top of the scale, the
#: honest raters who give every factor 5 stack up at one offset ~2 crowd-sd out (the ceiling cuts
#: their leniency off); taken for a bloc, they cost such a round 0.28 hearts.
_BLOC_APART_AT_END = 2.5
#: A group whose mean is this close (hearts) to the column's extreme sits "at the end".
_AT_END = 0.1
#: Sizes up to which medians are exact, and the resolution (hearts) of larger ones.
_EXACT_UP_TO = 20_000
_MEDIAN_STEP = 0.001


def wquantile(x: Floats, w: Floats, q: float) -> float:
    """The weighted q-quantile of the finite x with weights w > 0 (0 when there is none).

    Exact (a sort) up to `_EXACT_UP_TO` values; beyond, read off a weighted histogram with bins of
    `_MEDIAN_STEP` hearts — O(n) instead of a sort, which took 1.2 s of a 100,000-ballot round's 2.5."""
    keep = np.isfinite(x) & (w > 0)
    if not keep.any():
        return 0.0
    xs, ws = x[keep], w[keep]
    if len(xs) <= _EXACT_UP_TO:
        order = np.argsort(xs, kind="stable")
        cum = np.cumsum(ws[order])
        return float(xs[order][min(len(xs) - 1, int(np.searchsorted(cum, cum[-1] * q)))])
    low = float(xs.min())
    cum = np.cumsum(np.bincount(((xs - low) / _MEDIAN_STEP).astype(np.int64), weights=ws))
    return low + float(np.searchsorted(cum, cum[-1] * q)) * _MEDIAN_STEP


def sample_rows(row_w: Floats, size: int) -> tuple[Ints, Floats]:
    """About `size` of the rows, for a fit, as (their indices, how many times each counts): a row
    standing for at least 1/`size` of the weight is always read, once, and of the others every
    `every`-th, counting `every` times — an unbiased sample. A plain stride kept a pattern of thousands
    of ballots at full weight or dropped it by chance while keeping one in `every` of the rest: in
    100,000-ballot polarising rounds a camp (60 % of the ballots) was set aside as a "bloc" of offsets
    (rounds 1.2 hearts off), and in 20,000-ballot rounds the targeted class found its spikes on the
    wrong factors (scoring.targeted)."""
    n = len(row_w)
    every = max(1, n // size)
    if every == 1:
        return np.arange(n), np.ones(n)
    heavy = row_w * size >= row_w.sum()
    keep = np.flatnonzero(heavy | (np.arange(n) % every == 0))
    return keep, np.where(heavy[keep], 1.0, float(every))


def _sample(z: Floats, w: Floats) -> tuple[Floats, Floats]:
    """About `_EM_ROWS` of the rows (z: n × ..., w: n × C), weighted as `sample_rows` says."""
    rows, times = sample_rows(w.sum(axis=1), _EM_ROWS)
    return z[rows], w[rows] * times[:, None]


def _shares(z: Floats, mu: Floats, sd: Floats, pi: Floats) -> Floats:
    """Each row's probability (k × n × c) of each of k groups, from log densities for numerical safety."""
    log_dens = (-0.5 * ((z[None] - mu[:, None]) / sd[:, None]) ** 2 - np.log(sd[:, None])).sum(axis=3)
    log_dens += np.log(np.maximum(pi, 1e-300))[:, None, :]
    dens = np.exp(log_dens - log_dens.max(axis=0)[None])
    out: Floats = dens / dens.sum(axis=0)[None]
    return out


def bloc_posteriors(z: Floats, w: Floats, max_minor: float, apart: Floats) -> tuple[Floats, Bools, Floats, Floats]:
    """Per column c of `z` (n × C × D features, row weights `w` n × C), a two-group mixture of normals
    with diagonal covariance, fitted by EM (`_EM_STEPS`) — a latent-class model of "the crowd" and
    "a group apart".

    Where it finds a minority group — at most `max_minor` of the weight, cleanly apart from the
    majority (Ashman's D > 2 over the features, and `apart[c]` of the majority's spreads away, or
    `_BLOC_APART_AT_END` when the group sits at the end of the first feature's range, where the
    scale's ceiling stacks honest raters up) — `found[c]` is True and `post[:, c]` is each row's
    probability of belonging to the majority; elsewhere `post` is 1. Also returns the majority's
    mean and spread of the first feature per column."""
    n, c, d = z.shape
    w = np.where(np.isfinite(z).all(axis=2), w, 0.0)
    z = np.where(w[:, :, None] > 0, z, 0.0)
    # The fit reads a sample (`_sample`), plenty for five numbers per group; every row then gets its
    # probability.
    z_all, w_all = z, w
    z, w = _sample(z, w)
    n = len(z)
    mass = np.maximum(w.sum(axis=0), 1e-12)  # (c,)
    mean = (w[:, :, None] * z).sum(axis=0) / mass[:, None]  # (c, d)
    sd0 = np.maximum(_BLOC_SD_FLOOR, np.sqrt((w[:, :, None] * (z - mean) ** 2).sum(axis=0) / mass[:, None]))
    # Start the groups at the lower and upper quartiles (a start on the farthest quarter of rows
    # found fewer blocs: near-straight-liners 0.24 vs 0.10).
    # Weighted quartiles: a row may stand for many ballots with the same answers.
    mu = np.array([[[wquantile(z[:, col, k], w[:, col], q) for k in range(d)] for col in range(c)]
                   for q in (0.25, 0.75)]) if n else np.zeros((2, c, d))
    sd = np.stack([sd0, sd0])
    pi = np.full((2, c), 0.5)
    for _ in range(_EM_STEPS):
        share = _shares(z, mu, sd, pi)
        resp = w[None] * share
        rmass = np.maximum(resp.sum(axis=1), 1e-12)  # (2, c)
        pi = rmass / mass
        mu = (resp[:, :, :, None] * z[None]).sum(axis=1) / rmass[:, :, None]  # (2, c, d)
        sd = np.maximum(_BLOC_SD_FLOOR, np.sqrt(
            (resp[:, :, :, None] * (z[None] - mu[:, None]) ** 2).sum(axis=1) / rmass[:, :, None]))
    major = np.argmax(pi, axis=0)
    cols = np.arange(c)
    minor = 1 - major
    # Each row's membership is read with the bloc no wider than the crowd: a bloc gathering several
    # attacks (blocs at −2 to −2.7 hearts with random clickers at −0.9) was fitted wide, and its density
    # outweighed the crowd's at 1.7 crowd-sd, where honest raters lost half their weight (the mix of
    # all patterns 0.074 → 0.072, 92 → 100 % within 0.15; every other cell unchanged).
    tight = sd.copy()
    tight[minor, cols] = np.minimum(sd[minor, cols], sd[major, cols])
    share = _shares(z_all, mu, tight, pi)
    z, w = z_all, w_all
    gap = np.abs(mu[0] - mu[1])  # (c, d)
    ashman = np.sqrt((gap**2 * 2 / (sd[0] ** 2 + sd[1] ** 2)).sum(axis=1))
    distance = np.sqrt(((gap / sd[major, cols]) ** 2).sum(axis=1))
    first = z[:, :, 0]
    lowest = np.where(w > 0, first, np.inf).min(axis=0)
    highest = np.where(w > 0, first, -np.inf).max(axis=0)
    at_end = (np.abs(mu[minor, cols, 0] - highest) < _AT_END) | (np.abs(mu[minor, cols, 0] - lowest) < _AT_END)
    needed = np.where(at_end, np.maximum(apart, _BLOC_APART_AT_END), apart)
    found = (pi[minor, cols] <= max_minor) & (ashman > 2) & (distance >= needed) & (w.sum(axis=0) >= _BLOC_MIN_ROWS)
    post = share[major, :, cols].T
    return np.where(found, post, 1.0), found, mu[major, cols, 0], sd[major, cols, 0]


def side_blocs(z: Floats, w: Floats, max_minor: float, apart: float) -> tuple[Floats, bool, float, float]:
    """A three-group mixture of normals on one feature (row weights `w`) — a crowd, a group below it
    and a group above it —, fitted by EM from the 5th percentile, the median and the 95th: for rounds
    where blocs push both ways at once, which the two-group fit (`bloc_posteriors`) sees as one broad
    crowd (a mix of six blocs: one at +1.7, three at −1.6 to −2.2 hearts, the fitted crowd 1.1 wide).

    A side group is a bloc when it is cleanly apart from the crowd — Ashman's D > 2 and `apart` of the
    crowd's spreads away (`_BLOC_APART_AT_END` at least when it sits at the end of the range) — and
    the blocs hold at most `max_minor` of the weight together. Returns each row's probability of the
    crowd against the blocs (1 where none is found), whether one was found, and the crowd's mean and
    spread (with the side group that is not a bloc, if any)."""
    keep = np.isfinite(z) & (w > 0)
    if w[keep].sum() < _BLOC_MIN_ROWS or keep.sum() < 3:
        return np.ones(len(z)), False, 0.0, 1.0
    sample, sample_w = _sample(z[keep][:, None], w[keep][:, None])
    zs, ws = sample[:, 0], sample_w[:, 0]
    med = wquantile(zs, ws, 0.5)
    mad = wquantile(np.abs(zs - med), ws, 0.5) * 1.4826
    mu = np.array([wquantile(zs, ws, 0.05), med, wquantile(zs, ws, 0.95)])
    sd = np.full(3, max(_BLOC_SD_FLOOR, mad))
    pi = np.array([0.1, 0.8, 0.1])
    for _ in range(_EM_STEPS):
        resp = _one_feature_shares(zs, mu, sd, pi) * ws[None]
        mass = np.maximum(resp.sum(axis=1), 1e-12)
        pi = mass / mass.sum()
        mu = (resp * zs[None]).sum(axis=1) / mass
        sd = np.maximum(_BLOC_SD_FLOOR, np.sqrt((resp * (zs[None] - mu[:, None]) ** 2).sum(axis=1) / mass))
    crowd = int(np.argmax(pi))
    lowest, highest = float(z[keep].min()), float(z[keep].max())
    sides = [g for g in range(3) if g != crowd]

    def apart_from(g: int, ref_mu: float, ref_sd: float) -> bool:
        gap = abs(mu[g] - ref_mu)
        at_end = min(abs(mu[g] - highest), abs(mu[g] - lowest)) < _AT_END
        needed = max(apart, _BLOC_APART_AT_END) if at_end else apart
        return bool(gap * np.sqrt(2 / (sd[g] ** 2 + ref_sd**2)) > 2 and gap >= needed * ref_sd)

    # A side group that is not apart belongs to the crowd: the crowd a bloc must stand apart from is
    # the fitted crowd with it (the fit splits an honest crowd's tail off as a third group, and the
    # narrowed crowd made the other tail look apart: 28 % of honest weight lost in one round).
    far = [g for g in sides if apart_from(g, mu[crowd], sd[crowd])]
    near = [crowd, *(g for g in sides if g not in far)]
    mass = pi[near].sum()
    ref_mu = float((pi[near] * mu[near]).sum() / mass)
    ref_sd = float(np.sqrt((pi[near] * (sd[near] ** 2 + (mu[near] - ref_mu) ** 2)).sum() / mass))
    blocs = [g for g in far if apart_from(g, ref_mu, ref_sd)]
    if not blocs or pi[blocs].sum() > max_minor:
        return np.ones(len(z)), False, ref_mu, ref_sd
    share = _one_feature_shares(np.where(np.isfinite(z), z, mu[crowd]), mu, np.minimum(sd, sd[crowd]), pi)
    post = 1 - share[blocs].sum(axis=0)
    return np.where(np.isfinite(z), post, 1.0), True, ref_mu, ref_sd


def _one_feature_shares(z: Floats, mu: Floats, sd: Floats, pi: Floats) -> Floats:
    """`_shares` for one column of one feature: each row's probability (k × n) of each of k groups."""
    out: Floats = _shares(z[:, None, None], mu[:, None, None], sd[:, None, None], pi[:, None])[:, :, 0]
    return out
