"""Successive halving over a fidelity (training epochs)."""

from __future__ import annotations

from ..errors import InvalidArgumentError, check_positive_int
from ._common import TrackedStrategy

__all__ = ["SuccessiveHalving"]


def check_fidelities(min_fidelity, max_fidelity, eta):
    check_positive_int("min_fidelity", min_fidelity)
    check_positive_int("max_fidelity", max_fidelity)
    check_positive_int("eta", eta, minimum=2)
    if min_fidelity > max_fidelity:
        raise InvalidArgumentError(
            f"min_fidelity ({min_fidelity!r}) must not exceed max_fidelity ({max_fidelity!r})"
        )


def max_rung(min_fidelity: int, max_fidelity: int, eta: int) -> int:
    """``s_max = floor(log_eta(max_fidelity / min_fidelity))``, in exact integer arithmetic."""
    s = 0
    while min_fidelity * eta ** (s + 1) <= max_fidelity:
        s += 1
    return s


def rung_fidelity(i: int, s: int, min_fidelity: int, max_fidelity: int, eta: int) -> int:
    """Epochs at rung ``i`` of ``s + 1`` rungs: ``max_fidelity * eta**(i - s)``, rounded."""
    return max(min_fidelity, min(max_fidelity, round(max_fidelity / eta ** (s - i))))


class Bracket:
    """One run of successive halving: rungs of ``(size, fidelity)``, filled in order.

    Plain bookkeeping, no randomness. ``asked[i]`` lists the architectures asked at
    rung ``i`` and ``scores[i]`` their told scores (``None``: failed). A rung is
    complete once its target -- ``size``, or fewer if the rung below had fewer
    successes -- has been asked and told; its best members are then promoted.
    """

    def __init__(self, rungs, eta):
        self.rungs = [(int(n), int(r)) for n, r in rungs]
        self.eta = eta
        self.asked = [[] for _ in self.rungs]
        self.scores = [{} for _ in self.rungs]

    def _ranked(self, i):
        told = [(a, self.scores[i][a]) for a in dict.fromkeys(self.asked[i]) if self.scores[i].get(a) is not None]
        return [a for a, _ in sorted(told, key=lambda t: -t[1])]  # stable: first asked wins ties

    def target(self, i) -> int:
        if i == 0:
            return self.rungs[0][0]
        if not self.complete(i - 1):
            return self.rungs[i][0]
        return min(self.rungs[i][0], len(self._ranked(i - 1)))

    def complete(self, i) -> bool:
        if i > 0 and not self.complete(i - 1):
            return False
        t = self.target(i)
        return len(self.asked[i]) >= t and all(a in self.scores[i] for a in self.asked[i][:t])

    def all_asked(self) -> bool:
        last = len(self.rungs) - 1
        if last > 0 and not self.complete(last - 1):
            return False
        return len(self.asked[last]) >= self.target(last)

    def next_synchronous(self):
        """``(arch, rung)`` to ask (arch ``None``: a new sample at rung 0), or ``None`` if blocked."""
        for i in range(len(self.rungs) - 1, 0, -1):
            if self.complete(i - 1) and len(self.asked[i]) < self.target(i):
                for arch in self._ranked(i - 1):
                    if arch not in self.asked[i]:
                        return arch, i
        if len(self.asked[0]) < self.rungs[0][0]:
            return None, 0
        return None

    def next_asynchronous(self):
        """An early promotion (ASHA's rule: in the top ``1/eta`` of the rung's told results)."""
        for i in range(len(self.rungs) - 1, 0, -1):
            if len(self.asked[i]) < self.rungs[i][0]:
                told = sum(1 for a in self.asked[i - 1] if a in self.scores[i - 1])
                for arch in self._ranked(i - 1)[: told // self.eta]:
                    if arch not in self.asked[i]:
                        return arch, i
        return None

    def to_state(self) -> dict:
        return {"rungs": [list(r) for r in self.rungs],
                "asked": [[str(a) for a in rung] for rung in self.asked],
                "scores": [[[str(a), s] for a, s in rung.items()] for rung in self.scores]}

    @classmethod
    def from_state(cls, state, eta, space) -> Bracket:
        out = cls(state["rungs"], eta)
        out.asked = [[space.from_string(t) for t in rung] for rung in state["asked"]]
        out.scores = [{space.from_string(t): s for t, s in rung} for rung in state["scores"]]
        return out


class _BracketStrategy(TrackedStrategy):
    """Asks from a list of brackets; subclasses decide when to open a new one."""

    def __init__(self, space, *, seed=None):
        super().__init__(space, seed=seed)
        self.brackets_ = []

    def _open_bracket(self) -> bool:
        """Append a new bracket if the schedule allows; whether it did."""
        return False

    def _ask_from(self, b, pick):
        arch, rung = pick
        if arch is None:
            arch = self._unseen_or_any()
        bracket = self.brackets_[b]
        bracket.asked[rung].append(arch)
        return self._record_ask(arch, fidelity=bracket.rungs[rung][1], bracket=b, rung=rung)

    def ask(self):
        for b, bracket in enumerate(self.brackets_):
            if not bracket.all_asked():
                pick = bracket.next_synchronous()
                if pick is not None:
                    return self._ask_from(b, pick)
        if self._open_bracket():
            return self.ask()
        for b, bracket in enumerate(self.brackets_):
            pick = bracket.next_asynchronous()
            if pick is not None:
                return self._ask_from(b, pick)
        # every rung is waiting for results: one more configuration in the newest bracket
        return self._ask_from(len(self.brackets_) - 1, (None, 0))

    def _on_tell(self, arch, score, payload):
        if payload is None or "bracket" not in payload:
            return  # not asked by this strategy: no rung to put it in
        self.brackets_[payload["bracket"]].scores[payload["rung"]][arch] = score

    def state_dict(self) -> dict:
        state = super().state_dict()
        state["brackets"] = [b.to_state() for b in self.brackets_]
        return state

    def load_state_dict(self, state: dict) -> None:
        super().load_state_dict(state)
        self.brackets_ = [Bracket.from_state(b, self.eta, self.space) for b in state["brackets"]]


class SuccessiveHalving(_BracketStrategy):
    """Successive halving: many candidates at a low fidelity, the best few at higher ones.

    Jamieson & Talwalkar, "Non-stochastic Best Arm Identification and Hyperparameter
    Optimization", AISTATS 2016 (after Karnin et al. 2013). ``n`` random
    architectures are evaluated at the lowest fidelity; the best ``1/eta`` of them
    are evaluated again at ``eta`` times the fidelity, and so on up to
    ``max_fidelity``. With ``s = floor(log_eta(max_fidelity / min_fidelity))`` there
    are ``s + 1`` rungs; rung ``i`` holds ``max(1, floor(n * eta**-i))``
    architectures at ``round(max_fidelity * eta**(i - s))`` epochs. The defaults give
    27 cells at 1 epoch, 9 at 4, 3 at 12 (39 evaluations).

    ``context(arch)`` gives ``{"fidelity": epochs}``: the search loop passes it to
    ``estimator.evaluate(arch, fidelity=epochs)``. The same architecture is asked
    again at each rung it is promoted to. ``finished`` becomes true once the last
    rung has been asked. Failed results are never promoted.

    A rung is promoted when all its results are in. With several asks pending
    (parallel workers) and nothing else to do, the strategy promotes early by
    ASHA's rule (Li et al., "A System for Massively Parallel Hyperparameter
    Tuning", MLSys 2020): a told architecture in the top ``1/eta`` of its rung's
    told results moves up while the next rung has room; failing that, it adds one
    more random architecture to the first rung. With one worker this never happens.

    Parameters
    ----------
    space : Space
        Any :class:`nasviz.spaces.Space`.
    min_fidelity, max_fidelity : int
        Lowest and highest fidelity (epochs), ``1 <= min_fidelity <= max_fidelity``.
    eta : int
        Reduction factor (>= 2): keep the best ``1/eta`` at each rung.
    n : int
        Architectures in the first rung.
    seed : int, numpy.random.Generator or None
        Seeds the strategy's own generator ``rng_``.

    Examples
    --------
    >>> import nasviz as nv
    >>> s = nv.strategies.SuccessiveHalving(nv.CellSpace(), seed=0)
    >>> s.rungs()
    [(27, 1), (9, 4), (3, 12)]
    >>> a = s.ask()
    >>> s.context(a)
    {'fidelity': 1}
    """

    def __init__(self, space, *, min_fidelity=1, max_fidelity=12, eta=3, n=27, seed=None):
        super().__init__(space, seed=seed)
        self.min_fidelity = min_fidelity
        self.max_fidelity = max_fidelity
        self.eta = eta
        self.n = n
        check_fidelities(min_fidelity, max_fidelity, eta)
        check_positive_int("n", n)

    def rungs(self) -> list[tuple[int, int]]:
        """``[(architectures, fidelity), ...]``, one pair per rung, lowest fidelity first."""
        s = max_rung(self.min_fidelity, self.max_fidelity, self.eta)
        return [(max(1, self.n // self.eta**i), rung_fidelity(i, s, self.min_fidelity, self.max_fidelity, self.eta))
                for i in range(s + 1)]

    def _open_bracket(self) -> bool:
        if self.brackets_:
            return False
        self.brackets_.append(Bracket(self.rungs(), self.eta))
        return True

    @property
    def finished(self) -> bool:
        return bool(self.brackets_) and self.brackets_[0].all_asked()
