"""Regularized (aging) evolution."""

from __future__ import annotations

from ..errors import InvalidArgumentError, check_positive_int
from ._common import TrackedStrategy

__all__ = ["RegularizedEvolution"]


class RegularizedEvolution(TrackedStrategy):
    """Regularized evolution: tournament selection, mutation, and aging.

    Real, Aggarwal, Huang & Le, "Regularized Evolution for Image Classifier
    Architecture Search", AAAI 2019. The first ``population`` asks are uniformly
    random architectures (the warm-up). After that, each ask draws ``sample``
    members of the population at random (without replacement), takes the best of
    them as the parent and proposes a mutation of it (one decision changed). Each
    told result joins the population; when it holds more than ``population``
    members the *oldest* one leaves, whatever its score (aging), which keeps the
    search exploring and robust to noisy scores.

    ``context(child)`` gives ``{"parent": parent}`` so that an estimator can let the
    child inherit its parent's weights. A failed result joins the population as the
    worst possible member and ages out like the others. A child that was already
    proposed is re-drawn (another mutation of the same parent, then an unseen
    neighbour of it), so that a small space does not spend its budget on repeats;
    the paper does not do this. (Once a parent's whole neighbourhood has been proposed,
    the child is two mutations away; failing that, a random unseen architecture.)

    Parameters
    ----------
    space : Space
        Any :class:`nasviz.spaces.Space`.
    population : int
        Population size P (the paper uses 100 for long runs; 20 suits a budget of
        about 100 evaluations).
    sample : int
        Tournament size S, ``1 <= sample <= population``. Larger is greedier.
    seed : int, numpy.random.Generator or None
        Seeds the strategy's own generator ``rng_``.

    Attributes
    ----------
    population_ : list of (Architecture, float or None)
        The current population, oldest first, with told scores (``None``: failed).

    Examples
    --------
    >>> import nasviz as nv
    >>> s = nv.strategies.RegularizedEvolution(nv.CellSpace(), population=3, sample=2, seed=0)
    >>> for score in (0.1, 0.9, 0.5):
    ...     s.tell(s.ask(), nv.Result(score=score))
    >>> child = s.ask()
    >>> parent = s.context(child)["parent"]
    >>> sum(a != b for a, b in zip(child.ops, parent.ops))
    1
    """

    def __init__(self, space, *, population=20, sample=5, seed=None):
        super().__init__(space, seed=seed)
        self.population = population
        self.sample = sample
        check_positive_int("population", population)
        check_positive_int("sample", sample)
        if sample > population:
            raise InvalidArgumentError(
                f"sample must be at most population ({population}), got sample={sample!r}"
            )
        self.population_ = []

    def _tournament(self):
        """The best of ``sample`` members drawn without replacement (first drawn wins ties)."""
        k = min(self.sample, len(self.population_))
        picks = self.rng_.choice(len(self.population_), size=k, replace=False)
        best = None
        for i in picks:
            arch, score = self.population_[int(i)]
            if best is None or (score is not None and (best[1] is None or score > best[1])):
                best = (arch, score)
        return best[0]

    def _child(self, parent):
        for _ in range(8):
            child = self.space.mutate(parent, seed=self.rng_)
            if child not in self._seen:
                return child, parent
        options = [a for a in self.space.neighbors(parent) if a not in self._seen]
        if options:
            return options[int(self.rng_.integers(len(options)))], parent
        for _ in range(8):  # every neighbour was proposed: two steps away
            child = self.space.mutate(self.space.mutate(parent, seed=self.rng_), seed=self.rng_)
            if child not in self._seen and child != parent:
                return child, parent
        other = self._unseen()
        return (child, parent) if other is None else (other, None)

    def ask(self):
        if self.n_asked_ < self.population or not self.population_:
            return self._record_ask(self._unseen_or_any())
        child, parent = self._child(self._tournament())
        return self._record_ask(child, parent=parent)

    def _on_tell(self, arch, score, payload):
        self.population_.append((arch, score))
        while len(self.population_) > self.population:
            self.population_.pop(0)  # aging: the oldest leaves

    def state_dict(self) -> dict:
        state = super().state_dict()
        state["population"] = [[str(a), s] for a, s in self.population_]
        return state

    def load_state_dict(self, state: dict) -> None:
        super().load_state_dict(state)
        self.population_ = [(self.space.from_string(a), s) for a, s in state["population"]]
