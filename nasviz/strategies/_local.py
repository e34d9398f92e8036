"""Local search: hill climbing over neighbourhoods, with random restarts."""

from __future__ import annotations

from ..errors import check_positive_int
from ..validation import check_bool
from ._common import TrackedStrategy

__all__ = ["LocalSearch"]


class LocalSearch(TrackedStrategy):
    """Hill climbing on the space's neighbourhood graph, restarting at local optima.

    White, Nolen, Ramakrishnan & Dickerson, "Exploring the Loss Landscape in Neural
    Architecture Search", UAI 2021 (first as "Local Search is State of the Art for
    NAS Benchmarks", 2020). A walk starts from the best of ``initial`` random
    architectures (the incumbent). The neighbours of the incumbent
    (``space.neighbors``: every member one decision away) are evaluated in a random
    order; then the walk moves to the best neighbour if it beats the incumbent, and
    evaluates the new incumbent's neighbourhood. When no neighbour improves, the
    incumbent is a local optimum (kept in ``optima_``) and a new walk starts from
    fresh random architectures.

    Architectures already evaluated are not asked again: their known scores take
    part in the comparison. ``context(neighbour)`` gives ``{"parent": incumbent}``.
    A failed result counts as no improvement.

    With several asks pending (parallel workers), the walk does not wait: when the
    neighbourhood has been asked but not all told, it moves as soon as a told
    neighbour beats the incumbent, and otherwise asks a random unseen architecture
    meanwhile. With one worker this is exactly the algorithm above.

    Parameters
    ----------
    space : Space
        Any :class:`nasviz.spaces.Space`.
    initial : int
        Random architectures evaluated to pick each walk's starting point.
    first_improvement : bool
        Move to the first neighbour that beats the incumbent instead of evaluating
        the whole neighbourhood (cheaper steps, smaller gains per step).
    seed : int, numpy.random.Generator or None
        Seeds the strategy's own generator ``rng_``.

    Attributes
    ----------
    incumbent_ : (Architecture, float) or None
        The current point of the walk and its score.
    optima_ : list of (Architecture, float)
        The local optima found so far.

    Examples
    --------
    >>> import nasviz as nv
    >>> space = nv.CellSpace()
    >>> s = nv.strategies.LocalSearch(space, initial=1, seed=0)
    >>> start = s.ask()
    >>> s.tell(start, nv.Result(score=0.5))
    >>> first = s.ask()
    >>> s.context(first)["parent"] == start and first in space.neighbors(start)
    True
    """

    def __init__(self, space, *, initial=10, first_improvement=False, seed=None):
        super().__init__(space, seed=seed)
        self.initial = initial
        self.first_improvement = first_improvement
        check_positive_int("initial", initial)
        check_bool("first_improvement", first_improvement)
        self.incumbent_ = None
        self.optima_ = []
        self.scores_ = {}
        self.starts_ = []  # the current walk's random starting candidates
        self.neighborhood_ = []  # the incumbent's neighbours, in visiting order
        self.position_ = 0  # next neighbour to consider

    # -- walking -------------------------------------------------------------------
    def _best_neighbor(self):
        best = None
        for arch in self.neighborhood_:
            score = self.scores_.get(arch)
            if score is not None and (best is None or score > best[1]):
                best = (arch, score)
        return best

    def _move_to(self, arch, score):
        self.incumbent_ = (arch, score)
        nbrs = list(self.space.neighbors(arch))
        order = self.rng_.permutation(len(nbrs))
        self.neighborhood_ = [nbrs[int(i)] for i in order]
        self.position_ = 0

    def _improves(self, best) -> bool:
        return best is not None and best[1] > self.incumbent_[1]

    def ask(self):
        while True:
            if self.incumbent_ is None:
                told = [a for a in self.starts_ if a in self.scores_]
                if len(told) >= self.initial:
                    ok = [a for a in told if self.scores_[a] is not None]
                    self.starts_ = []
                    if ok:
                        best = max(ok, key=lambda a: self.scores_[a])  # first wins ties
                        self._move_to(best, self.scores_[best])
                    continue
                arch = self._unseen_or_any()
                self.starts_.append(arch)
                return self._record_ask(arch)
            if self.first_improvement and self._improves(self._best_neighbor()):
                self._move_to(*self._best_neighbor())
                continue
            while self.position_ < len(self.neighborhood_):
                arch = self.neighborhood_[self.position_]
                self.position_ += 1
                if arch not in self.scores_ and arch not in self.pending_:
                    return self._record_ask(arch, parent=self.incumbent_[0])
            best = self._best_neighbor()
            if self._improves(best):
                self._move_to(*best)
                continue
            if any(a in self.pending_ for a in self.neighborhood_):
                return self._record_ask(self._unseen_or_any())  # meanwhile, explore
            self.optima_.append(self.incumbent_)
            self.incumbent_ = None
            self.neighborhood_, self.position_ = [], 0

    def _on_tell(self, arch, score, payload):
        self.scores_[arch] = score

    # -- state ---------------------------------------------------------------------
    def state_dict(self) -> dict:
        state = super().state_dict()
        state.update(
            incumbent=None if self.incumbent_ is None else [str(self.incumbent_[0]), self.incumbent_[1]],
            optima=[[str(a), s] for a, s in self.optima_],
            scores=[[str(a), s] for a, s in self.scores_.items()],
            starts=[str(a) for a in self.starts_],
            neighborhood=[str(a) for a in self.neighborhood_],
            position=self.position_,
        )
        return state

    def load_state_dict(self, state: dict) -> None:
        super().load_state_dict(state)
        inc = state["incumbent"]
        self.incumbent_ = None if inc is None else (self.space.from_string(inc[0]), inc[1])
        self.optima_ = [(self.space.from_string(a), s) for a, s in state["optima"]]
        self.scores_ = {self.space.from_string(a): s for a, s in state["scores"]}
        self.starts_ = self._archs(state["starts"])
        self.neighborhood_ = self._archs(state["neighborhood"])
        self.position_ = state["position"]
