"""REINFORCE: a policy gradient over the space's decisions."""

from __future__ import annotations

import math

import numpy as np

from ..validation import check_number
from ._common import TrackedStrategy, from_values

__all__ = ["REINFORCE"]


def _softmax(logits):
    z = np.exp(logits - logits.max())
    return z / z.sum()


class REINFORCE(TrackedStrategy):
    """A factorised categorical policy trained with REINFORCE.

    Williams, "Simple Statistical Gradient-Following Algorithms for Connectionist
    Reinforcement Learning", Machine Learning 1992; applied to NAS by Zoph & Le,
    "Neural Architecture Search with Reinforcement Learning", ICLR 2017 (with an RNN
    controller; here, as in NAS-Bench-201's REINFORCE baseline, one independent
    softmax per decision). Each ask samples one choice per decision of
    ``space.decisions`` from the softmax of its logits and builds the architecture
    with ``space.from_decisions`` (re-sampling combinations the space rejects).
    Each tell moves the logits along ``lr * advantage * grad log p(arch)``, where the
    advantage is the score minus a moving-average baseline
    (``b <- baseline_decay * b + (1 - baseline_decay) * score``), divided by a moving
    standard deviation of the scores so that ``lr`` does not depend on the score's
    units (accuracy fractions, percentages or zero-cost proxy values).

    Tells may arrive in any order: each updates the current policy with the told
    architecture. Failed results are ignored (no update). Architectures may repeat;
    the policy concentrates as it learns.

    Parameters
    ----------
    space : Space
        Any :class:`nasviz.spaces.Space`.
    lr : float
        Learning rate of the logits (per unit of normalised advantage). The default 0.2
        balances learning speed and exploration for a 100-evaluation budget: on
        nb201-12epoch (cifar10_val_acc, 10 seeds) it averages 5.6 repeated asks per run,
        where 0.3 converges onto one cell and re-asks it about 170 times (the search then
        stops after 100 repeats in a row) and 0.1 learns too slowly on small budgets.
    baseline_decay : float
        Decay of the moving-average baseline, in ``[0, 1)``.
    seed : int, numpy.random.Generator or None
        Seeds the strategy's own generator ``rng_``.

    Attributes
    ----------
    logits_ : list of numpy.ndarray
        One vector of logits per decision.
    baseline_ : float or None
        The moving-average baseline (``None`` before the first successful tell).

    Examples
    --------
    >>> import nasviz as nv
    >>> space = nv.CellSpace()
    >>> s = nv.strategies.REINFORCE(space, seed=0)
    >>> for _ in range(20):
    ...     a = s.ask()
    ...     s.tell(a, nv.Result(score=a.ops.count("nor_conv_3x3") / 6))
    >>> [round(float(p), 2) for p in s.probabilities()[0]]  # edge 0->1 learns to prefer the 3x3 conv
    [0.18, 0.13, 0.19, 0.35, 0.15]
    """

    def __init__(self, space, *, lr=0.2, baseline_decay=0.9, seed=None):
        super().__init__(space, seed=seed)
        self.lr = lr
        self.baseline_decay = baseline_decay
        check_number("lr", lr, minimum=0, min_open=True)
        check_number("baseline_decay", baseline_decay, minimum=0, maximum=1, max_open=True)
        self._decisions = list(space.decisions)
        self.logits_ = [np.zeros(len(d.choices)) for d in self._decisions]
        self.baseline_ = None
        self.spread_ = None  # moving mean squared deviation of the scores from the baseline
        self.updates_ = 0

    def probabilities(self) -> list[np.ndarray]:
        """The policy: one probability vector per decision, in ``space.decisions`` order."""
        return [_softmax(z) for z in self.logits_]

    def _keeps_asked(self) -> bool:
        return False  # repeats are part of the method

    def ask(self):
        probs = self.probabilities()
        for _ in range(100):
            values = [d.choices[int(self.rng_.choice(len(p), p=p))] for d, p in zip(self._decisions, probs)]
            arch = from_values(self.space, values)
            if arch is not None:
                return self._record_ask(arch)
        return self._record_ask(self.space.sample(seed=self.rng_))

    def _on_tell(self, arch, score, payload):
        if score is None:
            return
        if self.baseline_ is None:  # the first score sets the baseline
            self.baseline_, self.spread_ = score, 0.0
            return
        advantage = score - self.baseline_
        self.updates_ += 1
        self.spread_ = self.baseline_decay * self.spread_ + (1 - self.baseline_decay) * advantage**2
        scale = math.sqrt(self.spread_ / (1 - self.baseline_decay**self.updates_))  # bias-corrected
        if scale > 0:
            step = self.lr * advantage / scale
            for k, (d, v) in enumerate(zip(self._decisions, self.space.to_decisions(arch))):
                grad = -_softmax(self.logits_[k])
                grad[d.choices.index(v)] += 1.0
                self.logits_[k] = self.logits_[k] + step * grad
        self.baseline_ = self.baseline_decay * self.baseline_ + (1 - self.baseline_decay) * score

    def state_dict(self) -> dict:
        state = super().state_dict()
        state.update(logits=[[float(x) for x in z] for z in self.logits_],
                     baseline=self.baseline_, spread=self.spread_, updates=self.updates_)
        return state

    def load_state_dict(self, state: dict) -> None:
        super().load_state_dict(state)
        self.logits_ = [np.array(z, dtype=float) for z in state["logits"]]
        self.baseline_ = state["baseline"]
        self.spread_ = state["spread"]
        self.updates_ = state["updates"]
