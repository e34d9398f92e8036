"""ipywidgets front ends over the public API: every control does what code can do.

- :class:`SpaceExplorer`: pick an architecture decision by decision; see it drawn,
  its size, its isomorphism class and its benchmark values.
- :class:`ParetoExplorer`: accuracy against parameters or FLOPs over a table, with
  the Pareto front to walk along.
- :class:`SearchRunner`: choose a strategy, an estimator and a budget; run a search in
  the background and watch it live; stop it at any time.
- :class:`StrategyRace`: several strategies over many seeds on a table; mean regret
  with bands, evaluations to the optimum.
- :class:`ProxyLab`: score real networks with cheap proxies and compare their ranking
  with the ground truth.

They use ipywidgets and matplotlib (figures shown as PNG in ``Output`` widgets), no
custom JavaScript, so they work in JupyterLab, Notebook 7, VS Code and Voila. Each can
be built and driven without a front end (set values, ``.click()`` buttons), which is
how the tests use them. Importing :mod:`nasviz` does not import this package.
"""

from .pareto_explorer import ParetoExplorer
from .proxy_lab import ProxyLab
from .search_runner import SearchRunner
from .space_explorer import SpaceExplorer
from .strategy_race import StrategyRace

__all__ = ["ParetoExplorer", "ProxyLab", "SearchRunner", "SpaceExplorer", "StrategyRace"]
