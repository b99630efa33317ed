"""Excess mass of answer *profiles*: how many of a ballot's answers are "not sure", 1, 2, … 5, whatever
the factors they fall on (the ballot's pattern up to the order of the factors).

The honest model (scoring.latent) gives every profile a probability — the factors' answer
probabilities combined over every way of placing the profile's answers on the factors, with the
leniency integrated out — so the count of ballots with one profile can be set against the count
honest raters would give it, as the excess-mass test of scoring.latent does for the neighbourhoods of
one pattern. A profile pools the patterns a bloc spreads over by varying *which* factor it varies:
near-straight fives with one answer at 4 or 3 are 12 patterns of ~5 ballots each, within what the
model's lenient raters could put in each, but two profiles of ~30. And a profile's probability keeps
the noise's shape: a lenient honest rater at the ceiling answers a 3 among five 5s far less often
than a 4 (under N(0, σ²) noise), whatever leniency the model's free leniency distribution puts there.
"""

from __future__ import annotations

import functools

import numpy as np

from scoring.matrix import Bools, Floats
from scoring.screening import Ints

#: Symbols of a profile: "not sure" and the answers 1..5.
_SYMBOLS = 6


@functools.lru_cache(maxsize=16)
def _steps(width: int) -> tuple[tuple[Ints, Ints], ...]:
    """For each number j < width of factors placed, the profiles' codes after j+1 factors and, per
    profile of j factors and symbol, the index of the profile it becomes."""
    base = width + 1
    power = base ** np.arange(_SYMBOLS, dtype=np.int64)
    codes = np.zeros(1, dtype=np.int64)
    out = []
    for _ in range(width):
        grown = (codes[:, None] + power[None, :]).ravel()  # (S_j · 6,)
        nxt, index = np.unique(grown, return_inverse=True)
        out.append((nxt, index.reshape(len(codes), _SYMBOLS)))
        codes = nxt
    return tuple(out)


def profile_codes(digits: Ints) -> Ints:
    """Each ballot's profile as one integer: Σ_k count_k · (F + 1)^k over the symbols k (0 = not sure)."""
    width = digits.shape[1]
    counts = np.stack([(digits == k).sum(axis=1) for k in range(_SYMBOLS)], axis=1).astype(np.int64)
    out: Ints = (counts * ((width + 1) ** np.arange(_SYMBOLS, dtype=np.int64))[None, :]).sum(axis=1)
    return out


def profile_probs(symbol_probs: Floats) -> tuple[Ints, Floats]:
    """Every profile's probability per leniency node: `symbol_probs` (F × G × 6) gives each factor's
    probability of each symbol at each node; returns (the profiles' codes (S,), probabilities (S × G)),
    by a dynamic programme over the factors (some thousands of profiles for ten factors)."""
    width, nodes, _ = symbol_probs.shape
    probs = np.ones((1, nodes))
    codes = np.zeros(1, dtype=np.int64)
    for j, (nxt, index) in enumerate(_steps(width)):
        grown = np.zeros((len(nxt), nodes))
        for k in range(_SYMBOLS):
            np.add.at(grown, index[:, k], probs * symbol_probs[j, :, k][None, :])
        probs, codes = grown, nxt
    return codes, probs


def profile_counts(digits: Ints, live: Bools, bw: Floats, weights: Floats, symbol_probs: Floats,
                   total: float) -> tuple[Floats, Floats]:
    """Per ballot, the expected count of honest ballots with its profile (of `total` ballots; leniency
    nodes of mass `weights`) and the observed count of live ballots (each counted with its `bw`)."""
    codes, probs = profile_probs(symbol_probs)
    mine = profile_codes(digits)
    expected: Floats = total * (probs[np.clip(np.searchsorted(codes, mine), 0, len(codes) - 1)] * weights).sum(axis=1)
    if not live.any():
        return expected, np.zeros(len(digits))
    uniq, inverse = np.unique(mine[live], return_inverse=True)
    tally = np.bincount(inverse.ravel(), weights=bw[live], minlength=len(uniq))
    observed: Floats = np.where(live, tally[np.clip(np.searchsorted(uniq, mine), 0, len(uniq) - 1)], 0.0)
    return expected, observed
