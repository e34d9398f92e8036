"""What a search records for one candidate: a :class:`Trial`.

Its own module, so that the journal (``storage``) and the analysis of a run
(``history``) both depend on it and not on each other's internals.
"""

from __future__ import annotations

from dataclasses import dataclass

from .estimators.base import Result

__all__ = ["Trial"]


@dataclass(frozen=True)
class Trial:
    """One evaluated architecture of a search.

    Attributes
    ----------
    number : int
        Position in the order the search asked for candidates, from 0.
    arch : Architecture or str
        The candidate (its string when the space is unknown, e.g. a journal read
        without its space).
    result : Result
        What the estimator returned; ``score``, ``cost``, ``status``, ``error`` and
        ``metrics`` below are read from it.
    parent : Architecture, str or None
        The architecture it was derived from, when the strategy says so.
    fidelity : object
        The per-candidate fidelity (e.g. epochs) the strategy asked for, or None.
    started, finished : float or None
        Wall-clock timestamps (``time.time()``) of the evaluation.
    worker : str or None
        Where it ran (``host:pid:thread``, or the Dask worker address).
    attempts : int
        How many times the evaluation was submitted: more than 1 when a run stopped
        with it in flight or queued, and it was evaluated again by a later ``run()``
        or a resume.

    Examples
    --------
    >>> import nasviz as nv
    >>> t = nv.Trial(0, nv.CellSpace()[0], nv.Result(score=0.25, metrics={"params": 10}))
    >>> t.score, t.status, t.metrics["params"]
    (0.25, 'ok', 10)
    """

    number: int
    arch: object
    result: Result
    parent: object = None
    fidelity: object = None
    started: float | None = None
    finished: float | None = None
    worker: str | None = None
    attempts: int = 1

    @property
    def score(self) -> float:
        return self.result.score

    @property
    def cost(self) -> float:
        return self.result.cost

    @property
    def status(self) -> str:
        return self.result.status

    @property
    def error(self) -> str | None:
        return self.result.error

    @property
    def metrics(self) -> dict:
        return self.result.metrics

    @property
    def ok(self) -> bool:
        return self.result.status == "ok"

    def __repr__(self) -> str:
        tail = f"score={self.score!r}" if self.ok else f"error={self.error!r}"
        return f"Trial(number={self.number}, arch='{self.arch}', status={self.status!r}, {tail})"
