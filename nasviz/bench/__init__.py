"""Tabular benchmarks: ground truth for every cell of a space, shipped inside nasviz.

- :func:`load` a shipped table by name (:func:`available` lists them), e.g.
  ``"nb201-12epoch"``: NAS-Bench-201's 12-epoch CIFAR-10, CIFAR-100 and
  ImageNet16-120 accuracies of all 15,625 cells (see ``nasviz/bench/README.md``).
- :func:`from_csv` / :func:`from_dataframe`: a table of your own.
- :class:`Benchmark`: ``query``, ``query_many``, ``optimum``, ``percentile``,
  ``cost`` (training seconds, measured or simulated), ``to_dataframe``; ``lookup``
  (every metric and the cost of many cells at once), ``row`` and ``array`` (the
  stored arrays).
- ``nv.estimators.Tabular(bench)`` turns a table into an estimator.
- :func:`decision_effects`: in a table over a :class:`~nasviz.MacroSpace`, how much each
  single-setting change (kernel 3 -> 5, one more layer, ...) moves the values, from
  matched pairs with bootstrap intervals (``nv.draw_effects`` draws it).
- :func:`recipe` the fixed training recipe of a table that nasviz builds (digits201):
  ``nv.bench.recipe("digits201").estimator(seed=0, epochs=2)`` trains its networks.
  It comes from the build side, :mod:`nasviz.bench.build` (which also rebuilds the
  tables), imported the first time ``recipe`` or ``Recipe`` is asked for.

Examples
--------
>>> import nasviz as nv
>>> bench = nv.bench.load("nb201-12epoch")
>>> arch = bench.space.from_string(
...     "|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|")
>>> round(bench.query(arch, "cifar10_test_acc"), 4)
0.8822
>>> round(bench.percentile(arch), 1) > 90
True
"""

from .benchmark import Benchmark, NotInTableError
from .custom import from_csv, from_dataframe
from .effects import decision_effects
from .tables import available, load

__all__ = ["Benchmark", "NotInTableError", "Recipe", "available", "decision_effects", "from_csv", "from_dataframe",
           "load", "recipe"]

# the build side (nasviz.bench.build) sits above nasviz.estimators: imported only when its names are asked for
_BUILD_SIDE = {"Recipe": "Recipe", "recipe": "get_recipe"}


def __getattr__(name: str):
    if name in _BUILD_SIDE:
        from .build import recipes

        value = getattr(recipes, _BUILD_SIDE[name])
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(__all__))
