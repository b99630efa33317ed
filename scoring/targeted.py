"""A targeted class against the honest model (scoring.latent): ballots that answer as honest raters do
except that on some factors a share of their answers is one value at an end of the scale — a bloc that
rates like the crowd but sinks or lifts one or two factors.

Under the class, an answer x_if is (1 − s_f)·P_h(x_if | l) + s_f·[x_if = v_f]: the honest model's
answer at the rater's leniency l, or the factor's spike v_f (1 or 5) with probability s_f (0 on the
factors the bloc leaves alone, where the class is the honest model). The leniency is integrated out
over the honest model's grid as in the honest likelihood, so the class is judged on what the rest of
a ballot says: an honest rater giving a factor 5 is a lenient one, whose other answers are high too,
and the honest model expects the 5; a bloc member whose other answers are the crowd's is not.

The careless class (scoring.careless) holds the other answers uniform; a bloc answering like the
crowd elsewhere then loses on four factors what it gains on two, and on a good product lifting two
factors to 5 (or on a poor one sinking them to 1, where honest 1s are common) was not found. The
class is fitted by EM from each factor's excess of 1s or 5s over what the ballots' other answers
predict, and earns its parameters by BIC (its share, and a value and a share per spiked factor):
of the nested sets of its largest spikes, at most half the factors, the best, if any.

What it weighs is the answer, not the ballot: each answer counts with its probability of not being
the class's spike, so the bloc's other answers stay as they are, and an honest lenient rater's 5
loses only the weight the mixture gives it. It is judged after each of the honest model's refits and
the least weight kept (scoring.weighting `_judge`), but not fed into the refits: there it shifted a
factor's fit and the next judgement took in honest raters (mix of targeted blocs and copies, one
round 0.24 off). Later refits, fitted with the bloc's answers, explain part of it away (two lifted:
found in the first fit, not the last, 0.15 off). At 30 %, 20 rounds (seeds 20261207, 7, 11; before
in brackets): two sunk 0.049, 0.045, 0.048 (0.066, 0.057, 0.052), two lifted 0.047, 0.044, 0.049
(0.071, 0.063, 0.064), one sunk 0.038, 0.041, 0.054 (0.047, 0.048, 0.068).
"""

from __future__ import annotations

import numpy as np

from scoring.blocs import sample_rows
from scoring.matrix import Bools, Floats
from scoring.screening import Ints

#: EM steps fitting the class's share and spikes, and refitting it with fewer spikes.
_STEPS = 15
_REFINE_STEPS = 5
#: EM stops once the shares move less than this.
_SETTLED = 1e-3
#: A spike smaller than this share of the class's answers in a factor is dropped (not a parameter).
_SPIKE_MIN = 0.05
#: The class's share is kept within these.
_PI_MIN, _PI_MAX = 1e-4, 0.5
#: The fit reads a sample of about this many answer patterns (as scoring.blocs, at half its size: the
#: class has a dozen numbers to fit, and it took 15 % of a 100k round's scoring).
_FIT_ROWS = 1_000


def targeted_cells(digits: Ints, log_node: Floats, weights: Floats, probs: Floats, bw: Floats,
                   total: float) -> Floats:
    """Per answer (n × F), the probability that it is not the targeted class's spike (1 everywhere
    when the class does not earn its BIC): `digits` the answers (0 = "not sure"), `log_node` each
    ballot's honest log-likelihood per leniency node (n × G) with the nodes' masses `weights`,
    `probs` the honest answer probabilities (F × G × 5), `bw` the ballots' weights (of `total`)."""
    n, f = digits.shape
    out = np.ones((n, f))
    if n == 0 or bw.sum() <= 0:
        return out
    # The fit reads an unbiased sample of the patterns (scoring.blocs.sample_rows); its log-likelihood
    # gain is scaled to the whole round.
    rows, times = sample_rows(bw, _FIT_ROWS)
    fit = _Class(digits[rows], log_node[rows], weights, probs, bw[rows] * times)
    found = fit.select(total, float(bw.sum()) / max(float((bw[rows] * times).sum()), 1e-12))
    if found is None:
        return out
    s, pi = found
    whole = fit if len(rows) == n else _Class(digits, log_node, weights, probs, bw, fit.spike, s > 0)
    post, cell_spike, _ = whole.e_step(s, pi)
    out = np.where(whole.rated, 1 - post[:, None] * cell_spike, 1.0)
    return out


class _Class:
    """The class fitted to some ballots: their honest likelihood per leniency node and, per factor,
    the spike's value and each answer's δ(x = spike) / P_h(x | node)."""

    def __init__(self, digits: Ints, log_node: Floats, weights: Floats, probs: Floats, bw: Floats,
                 spike: Ints | None = None, spiked: Bools | None = None) -> None:
        f = digits.shape[1]
        self.bw, self.rated = bw, digits > 0
        d = np.clip(digits, 1, 5) - 1
        top = log_node.max(axis=1, keepdims=True)
        self.node_h = weights[None, :] * np.exp(log_node - top)  # (n, G); the scale exp(top) dropped
        self.p_h = np.maximum(self.node_h.sum(axis=1), 1e-300)
        # P_h(x_if | node) for every answer (n × F × G) — given the spikes, only in the spiked
        # factors `cols` —; "not sure" is the same under both classes.
        self.cols = np.arange(f) if spiked is None else np.flatnonzero(spiked)
        here = np.maximum(np.stack([probs[j][:, d[:, j]].T for j in self.cols], axis=1), 1e-300)
        if spike is None:
            # Each factor's spike: the value in the largest excess over what the ballots' other
            # answers predict (the honest posterior of the leniency without that answer).
            without = self.node_h[:, None, :] / np.where(self.rated[:, :, None], here, 1.0)  # all factors
            post_wo = without / np.maximum(without.sum(axis=2, keepdims=True), 1e-300)
            predicted = np.einsum("nfg,fgk->fk", post_wo * (bw[:, None] * self.rated)[:, :, None], probs)
            observed = np.stack([np.bincount(d[self.rated[:, j], j], weights=bw[self.rated[:, j]], minlength=5)
                                 for j in range(f)])
            # Only at an end of the scale, where a push moves the score most: at a middle value the
            # class fitted the model's misfit of a factor's shape (its one pooled spread) instead,
            # and took in honest raters (copies one heart out at a factor's middle value: its honest
            # 3s weighed 0.4, the round 0.09 → 0.14 off).
            far = np.zeros((f, 5), dtype=bool)
            far[:, [0, 4]] = True
            excess = np.where(far, observed - predicted, -np.inf)
            spike = np.argmax(excess, axis=1)
            self.share = np.maximum(excess[np.arange(f), spike], 0.0) / np.maximum(
                (bw[:, None] * self.rated).sum(axis=0), 1e-12)
        self.spike = spike
        hit = self.rated[:, self.cols] & (d[:, self.cols] == spike[None, self.cols])
        self.ratio = np.where(hit[:, :, None], 1.0 / here, 0.0)  # (n, len(cols), G)

    def e_step(self, s: Floats, pi: float) -> tuple[Floats, Floats, Floats]:
        """(each ballot's probability of the class, within it each answer's of being the spike, and
        each ballot's likelihood under the class over the honest one's), from the spiked factors."""
        on = np.flatnonzero(s > 0)
        ratio = self.ratio[:, np.searchsorted(self.cols, on)]
        terms = (1 - s[on])[None, :, None] + s[on][None, :, None] * ratio  # (n, K, G)
        node_c = self.node_h * terms.prod(axis=1)
        lr = node_c.sum(axis=1) / self.p_h
        odds = pi / (1 - pi) * lr
        cell_spike = np.zeros(self.rated.shape)
        # Within the class, an answer's probability of being the spike, averaged over the leniency.
        cell_spike[:, on] = (s[on][None, :, None] * ratio / terms * node_c[:, None, :]).sum(axis=2) / (
            np.maximum(lr * self.p_h, 1e-300)[:, None])
        return odds / (1 + odds), cell_spike, lr

    def em(self, s: Floats, pi: float, steps: int) -> tuple[Floats, float]:
        """At most `steps` EM steps from (s, pi), spikes only where s > 0, until they settle."""
        support = s > 0
        for _ in range(steps):
            post, cell_spike, _ = self.e_step(s, pi)
            member = self.bw * post
            last_s, last_pi = s, pi
            pi = float(np.clip(member.sum() / self.bw.sum(), _PI_MIN, _PI_MAX))
            in_class = (member[:, None] * self.rated).sum(axis=0)
            s = np.clip((member[:, None] * cell_spike).sum(axis=0) / np.maximum(in_class, 1e-12), 0.0, 0.999)
            s = np.where(support & (s >= _SPIKE_MIN), s, 0.0)
            if not (s > 0).any() or (np.abs(s - last_s).max() < _SETTLED and abs(pi - last_pi) < _SETTLED):
                break
        return s, pi

    def select(self, total: float, scale: float) -> tuple[Floats, float] | None:
        """The class's (spike shares, share) with the best BIC margin, None if none has one: fitted
        from the factors' excesses, then, of the nested sets of its largest spikes, the best (a spike
        the class does not need costs its two parameters). At most half the factors: a bloc spiking
        more of them does not answer like the crowd, and the class would be a cluster of near-copies
        (scoring.latent's excess mass), taking in the honest raters who share its answers."""
        if self.share.max() <= 0:
            return None
        pi = float(np.clip(self.share.max(), 0.01, _PI_MAX))
        s, pi = self.em(np.clip(self.share / pi, 0.0, 0.95), pi, _STEPS)
        best, chosen = 0.0, None
        for k in range(1, min(int((s > 0).sum()), len(s) // 2) + 1):
            keep = np.zeros(len(s), dtype=bool)
            keep[np.argsort(-s)[:k]] = True
            s_k, pi_k = self.em(np.where(keep, s, 0.0), pi, _REFINE_STEPS)
            if not (s_k > 0).any():
                continue
            _, _, lr = self.e_step(s_k, pi_k)
            gain = scale * float((self.bw * np.log(np.maximum(1 - pi_k + pi_k * lr, 1e-300))).sum())
            margin = gain - 0.5 * (1 + 2 * int((s_k > 0).sum())) * np.log(max(total, 2.0))
            if margin > best:
                best, chosen = margin, (s_k, pi_k)
        return chosen
