"""Monte Carlo tree search over the sequence of decisions."""

from __future__ import annotations

import math

import numpy as np

from ..validation import check_number
from ._common import TrackedStrategy, from_values

__all__ = ["MCTS"]


class MCTS(TrackedStrategy):
    """UCT: Monte Carlo tree search over the space's decisions, with random roll-outs.

    Kocsis & Szepesvari, "Bandit Based Monte-Carlo Planning", ECML 2006; for NAS see
    Negrinho & Gordon, "DeepArchitect", 2017, and Wang et al., "AlphaX", AAAI 2020.
    An architecture is built by making the decisions of ``space.decisions`` one
    after the other, so the space is a tree whose depth-``k`` nodes are the prefixes
    of ``k`` choices. Each ask descends from the root, picking at each node the
    child with the highest upper confidence bound ``q + exploration * sqrt(ln N /
    n)`` (``N``, ``n``: visits of the node and the child) until it meets a child
    never visited; it adds that child to the tree and completes the architecture
    with uniformly random choices (the roll-out). A told score is backed up along
    the tree path the ask took (the choices made, even where the space's
    ``from_decisions`` repairs them into a slightly different member).

    ``q`` is the mean score below a node rescaled to ``[0, 1]`` by the lowest and
    highest scores told so far, so ``exploration`` does not depend on the score's
    units. Asks count as visits at once while their scores count only when told
    (a *virtual loss*): pending asks steer parallel asks apart. Failed results
    count as the worst score. Roll-outs that the space rejects or that hit an
    architecture already asked are redrawn; if that keeps happening the ask falls
    back to an unseen random architecture.

    Parameters
    ----------
    space : Space
        Any :class:`nasviz.spaces.Space`.
    exploration : float
        The UCT constant ``c`` (``1/sqrt(2)`` in Kocsis & Szepesvari for rewards in
        ``[0, 1]``); larger explores more.
    seed : int, numpy.random.Generator or None
        Seeds the strategy's own generator ``rng_``.

    Attributes
    ----------
    tree_ : dict
        ``prefix (tuple of choice indices) -> [visits, successful tells, sum of scores]``.

    Examples
    --------
    >>> import nasviz as nv
    >>> s = nv.strategies.MCTS(nv.CellSpace(), seed=0)
    >>> for _ in range(10):
    ...     a = s.ask()
    ...     s.tell(a, nv.Result(score=a.ops.count("nor_conv_3x3") / 6))
    >>> s.tree_[()][0]  # the root was visited by every ask
    10
    """

    def __init__(self, space, *, exploration=0.1, seed=None):
        super().__init__(space, seed=seed)
        self.exploration = exploration
        check_number("exploration", exploration, minimum=0)
        self._decisions = list(space.decisions)
        self.tree_ = {(): [0, 0, 0.0]}
        self.low_ = None
        self.high_ = None

    def _q(self, stats) -> float:
        n, n_ok, w = stats
        if n_ok == 0 or self.low_ is None:
            return 0.0
        if self.high_ > self.low_:
            return (w - n_ok * self.low_) / ((self.high_ - self.low_) * n)
        return 0.5 * n_ok / n

    def _select(self) -> tuple:
        """Descend by UCT to the first unvisited child; that child's prefix."""
        prefix = ()
        for d in self._decisions:
            children = [prefix + (c,) for c in range(len(d.choices))]
            fresh = [c for c in children if c not in self.tree_]
            if fresh:
                return fresh[int(self.rng_.integers(len(fresh)))]
            log_n = math.log(max(self.tree_[prefix][0], 1))
            ucb = [self._q(self.tree_[c]) + self.exploration * math.sqrt(log_n / max(self.tree_[c][0], 1))
                   for c in children]
            prefix = children[int(np.argmax(ucb))]
        return prefix

    def _path(self, arch) -> tuple:
        """The tree path of ``arch``'s own decisions, as far as the tree already goes."""
        path = []
        for d, v in zip(self._decisions, self.space.to_decisions(arch)):
            if v not in d.choices or tuple(path) + (d.choices.index(v),) not in self.tree_:
                break
            path.append(d.choices.index(v))
        return tuple(path)

    def ask(self):
        prefix = self._select()
        arch = None
        for _ in range(20):
            rest = [int(self.rng_.integers(len(d.choices))) for d in self._decisions[len(prefix):]]
            values = [d.choices[i] for d, i in zip(self._decisions, prefix + tuple(rest))]
            cand = from_values(self.space, values)  # a space may repair the values it is given
            if cand is not None and cand not in self._seen:
                arch, path = cand, prefix
                self.tree_.setdefault(prefix, [0, 0, 0.0])
                break
        if arch is None:
            arch = self._unseen_or_any()
            path = self._path(arch)
        for k in range(len(path) + 1):
            self.tree_[path[:k]][0] += 1
        return self._record_ask(arch, path=list(path))

    def _on_tell(self, arch, score, payload):
        if payload is None:  # not asked: a visit along the nodes its decisions reach
            path = self._path(arch)
            for k in range(len(path) + 1):
                self.tree_[path[:k]][0] += 1
        else:
            path = tuple(payload["path"])
        if score is None:
            return
        self.low_ = score if self.low_ is None else min(self.low_, score)
        self.high_ = score if self.high_ is None else max(self.high_, score)
        for k in range(len(path) + 1):
            stats = self.tree_[path[:k]]
            stats[1] += 1
            stats[2] += score

    def state_dict(self) -> dict:
        state = super().state_dict()
        state.update(tree=[[list(p), *stats] for p, stats in self.tree_.items()],
                     low=self.low_, high=self.high_)
        return state

    def load_state_dict(self, state: dict) -> None:
        super().load_state_dict(state)
        self.tree_ = {tuple(p): [n, n_ok, w] for p, n, n_ok, w in state["tree"]}
        self.low_ = state["low"]
        self.high_ = state["high"]
