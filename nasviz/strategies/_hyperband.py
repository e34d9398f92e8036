"""Hyperband: successive halving brackets that trade breadth for depth."""

from __future__ import annotations

from ..errors import check_positive_int
from ._successive_halving import Bracket, _BracketStrategy, check_fidelities, max_rung, rung_fidelity

__all__ = ["Hyperband"]


class Hyperband(_BracketStrategy):
    """Hyperband: successive halving run with several trade-offs between breadth and depth.

    Li, Jamieson, DeSalvo, Rostamizadeh & Talwalkar, "Hyperband: A Novel
    Bandit-Based Approach to Hyperparameter Optimization", JMLR 2018. With
    ``R = max_fidelity / min_fidelity`` and ``s_max = floor(log_eta R)``, one
    Hyperband iteration runs ``s_max + 1`` brackets, ``s = s_max, ..., 0``. Bracket
    ``s`` is successive halving that starts ``n = ceil((s_max + 1) / (s + 1) *
    eta**s)`` random architectures at ``max_fidelity * eta**-s`` epochs and has
    ``s + 1`` rungs: rung ``i`` keeps ``floor(n * eta**-i)`` architectures at
    ``max_fidelity * eta**(i - s)`` epochs (rounded). The most aggressive bracket
    comes first; the last one is plain random search at full fidelity. See
    :meth:`brackets`.

    ``context(arch)`` gives ``{"fidelity": epochs}``, for ``estimator.evaluate(arch,
    fidelity=epochs)``; an architecture is asked again at each rung it reaches.

    ``iterations=None`` (default) loops over the brackets until the search budget
    ends (``finished`` stays false); an integer stops after that many full
    iterations (``finished`` becomes true once their last rung has been asked).
    Failed results are never promoted. With parallel workers, a bracket waiting for
    its results lets the next bracket start; when no bracket may start, early
    promotions follow ASHA's rule as in :class:`SuccessiveHalving`.

    Parameters
    ----------
    space : Space
        Any :class:`nasviz.spaces.Space`.
    min_fidelity, max_fidelity : int
        Lowest and highest fidelity (epochs), ``1 <= min_fidelity <= max_fidelity``.
    eta : int
        Reduction factor (>= 2).
    iterations : int or None
        Full Hyperband iterations to run; ``None`` repeats until the budget ends.
    seed : int, numpy.random.Generator or None
        Seeds the strategy's own generator ``rng_``.

    Examples
    --------
    >>> import nasviz as nv
    >>> s = nv.strategies.Hyperband(nv.CellSpace(), seed=0)
    >>> s.brackets()
    [[(9, 1), (3, 4), (1, 12)], [(5, 4), (1, 12)], [(3, 12)]]
    >>> s.context(s.ask())
    {'fidelity': 1}
    """

    def __init__(self, space, *, min_fidelity=1, max_fidelity=12, eta=3, iterations=None, seed=None):
        super().__init__(space, seed=seed)
        self.min_fidelity = min_fidelity
        self.max_fidelity = max_fidelity
        self.eta = eta
        self.iterations = iterations
        check_fidelities(min_fidelity, max_fidelity, eta)
        if iterations is not None:
            check_positive_int("iterations", iterations)

    def brackets(self) -> list[list[tuple[int, int]]]:
        """One Hyperband iteration: for each bracket ``s = s_max..0``, its ``[(n_i, r_i), ...]``."""
        lo, hi, eta = self.min_fidelity, self.max_fidelity, self.eta
        s_max = max_rung(lo, hi, eta)
        out = []
        for s in range(s_max, -1, -1):
            n = -(-(s_max + 1) * eta**s // (s + 1))  # ceil((s_max + 1) / (s + 1) * eta**s)
            out.append([(n // eta**i, rung_fidelity(i, s, lo, hi, eta)) for i in range(s + 1)])
        return out

    def _open_bracket(self) -> bool:
        schedule = self.brackets()
        if self.iterations is not None and len(self.brackets_) >= self.iterations * len(schedule):
            return False
        self.brackets_.append(Bracket(schedule[len(self.brackets_) % len(schedule)], self.eta))
        return True

    @property
    def finished(self) -> bool:
        if self.iterations is None:
            return False
        return (len(self.brackets_) >= self.iterations * len(self.brackets())
                and all(b.all_asked() for b in self.brackets_))
