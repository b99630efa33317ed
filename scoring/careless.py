"""A careless class against the honest model (scoring.latent): ballots whose answers are independent
across factors, each uniform over 1..5 or uniform plus a spike at one value, fitted by EM (the class's
share and its spikes) against the honest model's likelihood of every ballot.

A random clicker is far more likely under uniform answers than under one leniency plus noise, over six
factors; a bloc answering like the crowd but sinking two factors is a class with two spikes at 1; a
bloc of (near-)straight fives is a class with a spike at 5 on every factor. An honest rater who gave
one sunk factor a 1 but not the other is no member of it. (A free categorical per factor took in
honest ballots: 20 % of them below half weight against one sunk factor.)

The class must earn its parameters (BIC): in honest rounds of noisier raters than the model's fit
assumes, it otherwise took in 4–8 % of the weight, from the tails, and cost 0.01–0.02 hearts (its
log-likelihood gain there: 2–4; against 30 % random clickers: hundreds). Three versions are fitted and
the one with the largest BIC margin is kept, if any:

* uniform answers alone (one parameter, its share): random clickers, whose spikes in the spiked
  version are chance lumps that cost their parameters (gain 12 against a penalty of 34 with a spike
  per factor; 2.8 without);
* uniform plus spikes, from a small share of uniform answers: blocs sinking or lifting factors;
* uniform plus spikes, *started from the crowded ballots* (those the excess-mass test weighed down,
  as far as it did) that answer at one end of the scale on at least `_END_SHARE` of their factors.
  From the small uniform start EM never reaches a bloc of (near-)straight fives on a good product:
  the censored honest model explains each of its ballots well enough (a lenient rater answers 5
  almost everywhere), so none look careless at first, and the refits of the model then take the
  bloc in as a camp of lenient raters. Started from them, the spiked class wins its BIC when the
  bloc is there (straight fives 0.117 → 0.061, near-straight fives 0.112 → 0.096 over 20 rounds
  at 30 %). Only blocs at an end: started from every crowded ballot, the class also took in the
  honest raters around copies one heart past the crowd (0.063 → 0.079, 95 % → 80 % within 0.15).
"""

from __future__ import annotations

import numpy as np

from scoring.matrix import Floats
from scoring.screening import Ints

#: The careless class's share of the ballots is fitted with this many EM steps, from this start.
_CARELESS_STEPS = 30
_CARELESS_START = 0.05
#: Pseudo-count per answer value of the class apart's categoricals, as a share of the ballots.
_THETA_PRIOR = 0.01
#: A ballot "at an end of the scale": this share of its answers at 1, or at 5.
_END_SHARE = 0.5
#: The least share of the ballots the start from the crowded ones needs to be tried at all.
_START_MIN = 0.02


def careless_posterior(digits: Ints, log_h: Floats, bw: Floats, unsure: Floats, crowd: Floats,
                       total: float) -> Floats:
    """Each ballot's probability of the careless class (0 where no version earns its BIC): `digits`
    the answers (0 = "not sure"), `log_h` their log-likelihood under the honest model, `bw` the
    ballots' weights, `crowd` the excess-mass weights, `total` the number of ballots."""
    n_rated = np.maximum((digits > 0).sum(axis=1), 1)
    at_end = np.maximum((digits == 1).sum(axis=1), (digits == 5).sum(axis=1)) / n_rated >= _END_SHARE
    post = np.zeros(len(digits))
    best = 0.0
    for spiked, start in ((False, None), (True, None), (True, (1 - crowd) * at_end)):
        p_c, gain, params = _careless_class(digits, log_h, bw, unsure, spiked, start)
        margin = gain - 0.5 * params * np.log(max(total, 2.0))
        if margin > best:
            best, post = margin, p_c
    return post


def _careless_class(digits: Ints, log_h: Floats, bw: Floats, unsure: Floats,
                    spiked: bool, start: Floats | None = None) -> tuple[Floats, float, int]:
    """The careless class against the honest model (log-likelihoods `log_h`), fitted by EM from a
    small uniform share or from the members `start`: each ballot's probability of it, its
    log-likelihood gain over the honest model alone, and its number of parameters (its share, and
    two per spike)."""
    n, f = digits.shape
    theta = np.full((f, 5), 0.2)
    pi = _CARELESS_START
    post = np.zeros(n)
    prior = _THETA_PRIOR * max(float(bw.sum()), 1.0)
    log_c = np.zeros(n)
    if start is not None:
        member = start * bw
        pi = float(np.clip(member.sum() / max(bw.sum(), 1e-12), 1e-6, 0.5))
        if pi < _START_MIN:
            return post, 0.0, 1
        theta = _spikes(digits, member, prior)
    factor = np.arange(f)[None, :]
    for step in range(_CARELESS_STEPS):
        if spiked or step == 0:  # unspiked, theta (and so log_c) never changes
            log_c = _answer_log_likelihood(theta, unsure)[factor, digits].sum(axis=1)
        odds = pi / (1 - pi) * np.exp(np.clip(log_c - log_h, -50, 50))
        post = odds / (1 + odds)
        member = post * bw
        pi = float(np.clip(member.sum() / max(bw.sum(), 1e-12), 1e-6, 0.5))
        if spiked:
            theta = _spikes(digits, member, prior)
    diff = np.clip(log_c - log_h, -50, 50)
    gain = float((bw * np.log1p(pi * np.expm1(diff))).sum())
    spikes = int((theta.max(axis=1) > 0.2 + 1e-9).sum())
    return post, gain, 1 + 2 * spikes


def _answer_log_likelihood(theta: Floats, unsure: Floats) -> Floats:
    """The class's log-likelihood of each answer (F × 6, column 0 "not sure", 1–5 the hearts), so a
    ballot's is one gather by its digits: the same terms as a `where` over the n × F answers, each
    computed once per factor and value instead of once per answer."""
    return np.column_stack([np.log(unsure), np.log(1 - unsure)[:, None] + np.log(theta)])


def _spikes(digits: Ints, member: Floats, prior: float) -> Floats:
    """The spiked class's answer probabilities (F × 5): per factor uniform plus a spike at the value
    most common among its members, as large as their share of that value makes it."""
    f = digits.shape[1]
    # Every factor's tally at once: ballot i's answer in factor j counts in bin 6·j + digit ("not sure"
    # at 0, dropped), summed over the ballots in order, as one bincount per factor would.
    bins = (digits + 6 * np.arange(f)[None, :]).ravel()
    tallies = np.bincount(bins, weights=np.repeat(member, f), minlength=6 * f).reshape(f, 6)[:, 1:] + prior
    theta = np.full((f, 5), 0.2)
    for j in range(f):
        tally = tallies[j]
        top_k = int(np.argmax(tally))
        spike = max(0.0, (tally[top_k] / tally.sum() - 0.2) / 0.8)
        theta[j] = (1 - spike) / 5
        theta[j, top_k] += spike
    return theta
