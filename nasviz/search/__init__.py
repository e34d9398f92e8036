"""The Search loop: ask, evaluate, record, tell; with a budget, workers, a journal and resume.

One room, four modules, data flowing one way:

- :mod:`~nasviz.search.loop`: :class:`Search`, the loop itself (asks, journaling, tells,
  budget, callbacks) and :meth:`Search.resume`;
- :mod:`~nasviz.search.state`: :class:`SearchState` (the bookkeeping) and the replay of a
  journal that rebuilds it;
- :mod:`~nasviz.search.evaluation`: :class:`EvaluationTask`, what a worker runs for one
  candidate, and the batch evaluation behind :class:`BatchExecutor`;
- :mod:`~nasviz.search.executors`: the inline executor of a serial search and
  :class:`BatchExecutor`.

See :class:`Search` for an example.
"""

from .evaluation import EvaluationTask, evaluate_batch, evaluate_safely
from .executors import BatchExecutor, InlineExecutor
from .loop import Search
from .state import SearchState

__all__ = ["BatchExecutor", "EvaluationTask", "InlineExecutor", "Search", "SearchState", "evaluate_batch",
           "evaluate_safely"]
