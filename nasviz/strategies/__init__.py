"""Search strategies, one per module, all ask/tell (see :class:`Strategy`).

Get one by class or by short name::

    nv.strategies.RegularizedEvolution(space, population=20, sample=5, seed=0)
    nv.strategies.get("evolution", space, seed=0)     # names: nv.strategies.available()
"""

from ._bo import BayesianOptimization
from ._differentiable import Differentiable
from ._evolution import RegularizedEvolution
from ._exhaustive import Exhaustive
from ._hyperband import Hyperband
from ._local import LocalSearch
from ._mcts import MCTS
from ._random import RandomSearch
from ._registry import DIFFERENTIABLE, available, get, strategy_class
from ._reinforce import REINFORCE
from ._successive_halving import SuccessiveHalving
from .base import Strategy, StrategyError, StrategyFinishedError

__all__ = [
    "MCTS",
    "REINFORCE",
    "BayesianOptimization",
    "Differentiable",
    "Exhaustive",
    "Hyperband",
    "LocalSearch",
    "RandomSearch",
    "RegularizedEvolution",
    "Strategy",
    "StrategyError",
    "StrategyFinishedError",
    "SuccessiveHalving",
    "DIFFERENTIABLE",
    "available",
    "get",
    "strategy_class",
]
