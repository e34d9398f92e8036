"""The estimator protocol: how a candidate architecture is judged.

Every estimator has ``evaluate(arch, *, parent=None, fidelity=None) -> Result`` and
``evaluate_many(archs, ...) -> list[Result]``. ``parent`` is the architecture the
candidate was derived from (for weight inheritance); ``fidelity`` overrides the
estimator's default budget per candidate (epochs for training estimators and
tables), as used by successive halving. A candidate that fails becomes a
``Result`` with ``status="failed"`` and the reason in ``error``; it never raises.
"""

from __future__ import annotations

import math
import time
from abc import ABC
from collections.abc import Sequence
from dataclasses import dataclass, field

from ..params import Params, alias_hooks

__all__ = ["Result", "Estimator"]


@dataclass(frozen=True)
class Result:
    """The outcome of evaluating one architecture.

    Attributes
    ----------
    score : float
        Higher is better: validation accuracy as a fraction for training estimators
        and tables, the proxy's value for zero-cost estimators. NaN when failed.
    cost : float
        Seconds spent: measured, or simulated for tables.
    metrics : dict
        Anything else measured (test accuracy, params, FLOPs, per-epoch curve, ...).
    status : str
        ``"ok"`` or ``"failed"``.
    error : str or None
        Why it failed.

    Examples
    --------
    >>> Result(score=0.9, cost=1.5).ok
    True
    >>> Result.failed("loss became NaN").status
    'failed'
    """

    score: float = math.nan
    cost: float = 0.0
    metrics: dict = field(default_factory=dict)
    status: str = "ok"
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    @classmethod
    def failed(cls, error: str, cost: float = 0.0, metrics: dict | None = None) -> "Result":
        return cls(score=math.nan, cost=cost, metrics=dict(metrics or {}), status="failed", error=str(error))

    @classmethod
    def validated(cls, value, *, cost: float = 0.0) -> "Result":
        """``value`` if it is a usable Result, else a failed Result saying why.

        A value that is not a :class:`Result` (a float, None, ...) or an ``ok`` Result
        whose score is not a finite number becomes ``Result.failed`` with the reason;
        ``cost`` is the time spent, used when ``value`` carries none.

        Examples
        --------
        >>> Result.validated(0.93).error
        'the estimator returned float 0.93, expected a nasviz Result (nv.Result(score=..., cost=...))'
        >>> Result.validated(Result(score=float("nan"))).error
        'non-finite score nan'
        >>> Result.validated(Result(score=0.5)).ok
        True
        """
        if not isinstance(value, Result):
            text = repr(value)
            text = text if len(text) <= 60 else text[:57] + "..."
            return cls.failed(f"the estimator returned {type(value).__name__} {text}, expected a nasviz Result "
                              "(nv.Result(score=..., cost=...))", cost=cost)
        if value.status == "ok":
            try:
                finite = not isinstance(value.score, (bool, str)) and math.isfinite(float(value.score))
            except (TypeError, ValueError):
                finite = False
            if not finite:
                return cls.failed(f"non-finite score {value.score!r}", cost=value.cost, metrics=value.metrics)
        return value

    def to_dict(self) -> dict:
        return {"score": self.score, "cost": self.cost, "metrics": dict(self.metrics),
                "status": self.status, "error": self.error}

    @classmethod
    def from_dict(cls, d: dict) -> "Result":
        return cls(score=d.get("score", math.nan), cost=d.get("cost", 0.0), metrics=dict(d.get("metrics") or {}),
                   status=d.get("status", "ok"), error=d.get("error"))


class Estimator(Params, ABC):
    """Base class of performance estimators.

    Subclasses implement the hook :meth:`evaluate_one` (raising is fine:
    :meth:`evaluate` turns exceptions, non-finite scores and return values that are
    not a :class:`Result` into failed results), may override :meth:`evaluate_batch`
    to judge several candidates at once, and may describe themselves with the
    ``fidelity`` property. Callers use :meth:`evaluate` and :meth:`evaluate_many`.
    (The hooks' earlier names, ``_evaluate`` and ``_evaluate_many``, still work.)

    Examples
    --------
    >>> import nasviz as nv
    >>> class Convs(Estimator):          # the share of 3x3 convolutions, as a toy score
    ...     def evaluate_one(self, arch, parent=None, fidelity=None):
    ...         return nv.Result(score=arch.ops.count("nor_conv_3x3") / 6, cost=1.0)
    >>> space = nv.CellSpace()
    >>> round(Convs().evaluate(space.sample(seed=0)).score, 3)
    0.167
    >>> [r.ok for r in Convs().evaluate_many([space[0], space[1]])]
    [True, True]
    """

    @property
    def fidelity(self) -> str:
        """A short description of what this estimator stands for (e.g. '4 epochs at 8x8')."""
        return type(self).__name__

    def evaluate_one(self, arch, parent=None, fidelity=None) -> Result:
        """The hook: judge one architecture (``parent``: what it was derived from; ``fidelity``:
        a per-candidate budget such as epochs). May raise."""
        raise NotImplementedError(f"{type(self).__name__} must implement "
                                  "evaluate_one(self, arch, parent=None, fidelity=None) -> Result")

    def evaluate_batch(self, archs: list, parents: list, fidelity=None) -> list:
        """The batching hook: one Result per architecture, in order (default: one by one)."""
        return [self.evaluate(a, parent=p, fidelity=fidelity) for a, p in zip(archs, parents)]

    # the hooks' earlier names: a subclass may define either name (alias_hooks gives it both)
    _evaluate = evaluate_one
    _evaluate_many = evaluate_batch

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        alias_hooks(cls, [("evaluate_one", "_evaluate"), ("evaluate_batch", "_evaluate_many")])

    def evaluate(self, arch, *, parent=None, fidelity=None) -> Result:
        """Judge one architecture; failures come back as ``Result.failed``, never raised."""
        start = time.perf_counter()
        try:
            result = self.evaluate_one(arch, parent=parent, fidelity=fidelity)
        except (KeyboardInterrupt, SystemExit):
            raise
        except Exception as err:  # a failing candidate is recorded, the search goes on
            return Result.failed(f"{type(err).__name__}: {err}", cost=time.perf_counter() - start)
        return Result.validated(result, cost=time.perf_counter() - start)

    def evaluate_many(self, archs: Sequence, *, parents: Sequence | None = None, fidelity=None) -> list[Result]:
        """Judge many architectures (batched where the estimator can); one Result each, in order."""
        archs = list(archs)
        parents = [None] * len(archs) if parents is None else list(parents)
        if len(parents) != len(archs):
            from ..errors import InvalidArgumentError

            raise InvalidArgumentError(f"parents must have one entry per arch ({len(archs)}), got {len(parents)}")
        results = list(self.evaluate_batch(archs, parents, fidelity))
        if len(results) != len(archs):
            return [Result.failed(f"{type(self).__name__}.evaluate_many gave {len(results)} results for "
                                  f"{len(archs)} architectures")] * len(archs)
        return [Result.validated(r) for r in results]
