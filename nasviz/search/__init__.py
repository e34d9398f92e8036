"""The Search loop: ask, evaluate, record, tell; with a budget, workers, a journal and resume.

:class:`Search` drives a strategy (ask/tell) and an estimator over a space until a
budget is spent. Each step is:

1. ``arch = strategy.ask()``; ``strategy.context(arch)`` gives its ``parent`` and
   ``fidelity``;
2. the candidate is journaled as ``running`` and evaluated:
   ``estimator.evaluate(arch, parent=..., fidelity=...)``;
3. the result is recorded and journaled, then ``strategy.tell(arch, result)``.

With ``workers > 1`` or an ``executor``, up to ``workers`` evaluations are in flight
and results are told in the order they finish. A candidate the strategy already had
evaluated (same architecture and fidelity) is answered from the journal: told
again, counted in ``n_repeats``, at no cost and outside the budget.

Failures never stop a search: an exception in the estimator, a NaN score, or an
out-of-memory error becomes a trial with ``status="failed"`` and its ``error``.
A strategy that raises in ``ask()`` or ``tell()`` is a bug, not a failing candidate:
the search ends with :class:`~nasviz.strategies.StrategyError` naming the strategy,
the trial and the cause, after journaling every finished evaluation (the trial
whose ``tell`` raised included), so :meth:`Search.resume` continues once it is fixed.
One search writes a journal at a time: another writer gets
:class:`~nasviz.storage.JournalBusyError` naming the process that holds it.
Ctrl-C (``KeyboardInterrupt``) and :meth:`Search.stop` end the run cleanly and
return the :class:`~nasviz.History` so far; everything finished is in the journal,
and ``run()`` again (or :meth:`Search.resume` from another process) continues.

Examples
--------
>>> import nasviz as nv
>>> from nasviz.estimators.base import Estimator
>>> class Edges(Estimator):          # a toy estimator: the share of 3x3 convolutions
...     def evaluate_one(self, arch, parent=None, fidelity=None):
...         return nv.Result(score=arch.ops.count("nor_conv_3x3") / 6, cost=1.0)
>>> space = nv.CellSpace()
>>> strategy = nv.strategies.RandomSearch(space, seed=0)
>>> history = nv.Search(space, strategy, Edges(), budget=20).run(progress=False)
>>> len(history), history.best.score
(20, 0.5)

The room's modules, data flowing one way:

- :mod:`~nasviz.search.loop`: :class:`Search`, the loop itself (asks, journaling, tells,
  budget, callbacks) and :meth:`Search.resume`;
- :mod:`~nasviz.search.state`: :class:`SearchState` (the bookkeeping) and the replay of a
  journal that rebuilds it;
- :mod:`~nasviz.search.evaluation`: :class:`EvaluationTask`, what a worker runs for one
  candidate, and the batch evaluation behind :class:`BatchExecutor`;
- :mod:`~nasviz.search.executors`: the inline executor of a serial search and
  :class:`BatchExecutor`;
- :mod:`~nasviz.search.arguments` and :mod:`~nasviz.search.progress`: the checks of
  ``Search``'s arguments, its progress bar and Ctrl-C guard.
"""

from .evaluation import EvaluationTask, evaluate_batch, evaluate_safely
from .executors import BatchExecutor, InlineExecutor
from .loop import Search
from .state import SearchState

__all__ = ["BatchExecutor", "EvaluationTask", "InlineExecutor", "Search", "SearchState", "evaluate_batch",
           "evaluate_safely"]
