"""Differentiable search (DARTS, GDAS) as an ask/tell strategy: the derived cell of every search epoch."""

from __future__ import annotations

from ..errors import check_choice
from ._common import TrackedStrategy
from .base import StrategyFinishedError

__all__ = ["Differentiable"]

METHODS = ("darts", "gdas")


class Differentiable(TrackedStrategy):
    """DARTS or GDAS (:mod:`nasviz.oneshot.differentiable`), asked epoch by epoch.

    The first ask runs the whole differentiable search (one supernet and its architecture
    weights trained on ``data``); then ask ``k`` proposes the cell derived after search
    epoch ``k``, so a :class:`~nasviz.Search` with a table estimator records the truth of
    what DARTS would return after 1, 2, ... epochs, and ``finished`` becomes true after
    ``epochs`` asks. The search learns nothing from what it is told: its choices come from
    the gradient, not from the estimator (as in DARTS, where the final cell is retrained
    once). The search's own record is ``history_`` (a
    :class:`~nasviz.oneshot.DifferentiableHistory`: op probabilities per epoch), its wall
    time ``history_.seconds``.

    Parameters
    ----------
    space : CellSpace
        The cells.
    data : nasviz.data.Data
        The images the supernet and architecture weights train on (the training part only).
    method : {"darts", "gdas"}
        First-order DARTS or GDAS.
    epochs, channels : int
        Search epochs and supernet width.
    arch_lr : float
        Adam learning rate of the architecture weights (see
        :class:`~nasviz.oneshot.DifferentiableSearch`).
    device : str
        Where the supernet trains.
    seed : int, numpy.random.Generator or None
        Seeds ``rng_``, from which the search's own seed is drawn at the first ask.

    Examples
    --------
    >>> import nasviz as nv
    >>> s = nv.strategies.Differentiable(nv.CellSpace(), data=nv.data.digits(resolution=4, subset=0.25),
    ...                                  epochs=2, channels=2, seed=0)
    >>> [s.ask() in nv.CellSpace() for _ in range(2)], s.finished
    ([True, True], True)
    """

    def __init__(self, space, *, data=None, method="darts", epochs=20, channels=4, arch_lr=0.01, device="cpu",
                 seed=None):
        super().__init__(space, seed=seed)
        self.data = data
        self.method = method
        self.epochs = epochs
        self.channels = channels
        self.arch_lr = arch_lr
        self.device = device
        check_choice("method", method, METHODS)
        self._searcher(0)  # the search checks its settings (data, epochs, ...) now, not at the first ask
        self.search_seed_ = None
        self.position_ = 0
        self.history_ = None

    def _searcher(self, seed: int):
        from ..oneshot import DARTS, GDAS

        cls = DARTS if self.method == "darts" else GDAS
        return cls(self.space, self.data, epochs=self.epochs, channels=self.channels, arch_lr=self.arch_lr,
                   device=self.device, seed=seed)

    def _keeps_asked(self) -> bool:
        return False  # the position says it all

    def ask(self):
        if self.finished:
            raise StrategyFinishedError(f"Differentiable has proposed the cells of all {self.epochs} search "
                                        "epochs; check strategy.finished before calling ask()")
        if self.search_seed_ is None:
            self.search_seed_ = int(self.rng_.integers(2**31))
        if self.history_ is None:
            self.history_ = self._searcher(self.search_seed_).run()
        self.position_ += 1
        return self._record_ask(self.history_.cells[self.position_])

    @property
    def finished(self) -> bool:
        return self.position_ >= self.epochs

    def state_dict(self) -> dict:
        state = super().state_dict()
        state.update(position=self.position_, search_seed=self.search_seed_)
        return state

    def load_state_dict(self, state: dict) -> None:
        super().load_state_dict(state)
        self.position_ = state["position"]
        if state["search_seed"] != self.search_seed_:
            self.history_ = None  # searched again, from the same seed, at the next ask
        self.search_seed_ = state["search_seed"]
