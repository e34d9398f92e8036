"""The strategy protocol: ask for a candidate, tell its result.

A strategy proposes architectures of a space (``ask``) and learns from their
results (``tell``). It owns a ``numpy.random.Generator`` (``rng_``) made from its
``seed`` and never touches global random state, so the same seed gives the same
sequence of asks for the same results. Several asks may be outstanding before
their tells arrive (parallel workers), and tells may come back in any order.

``context(arch)`` tells the search loop how to evaluate an asked candidate: its
``parent`` (for weight inheritance) and ``fidelity`` (epochs, for multi-fidelity
strategies); both optional.

``state_dict()`` returns JSON-serialisable state (architectures as strings) and
``load_state_dict`` restores it, so a journaled search resumes exactly.
"""

from __future__ import annotations

import copy
from abc import ABC, abstractmethod

import numpy as np

from ..errors import InvalidArgumentError, NasvizError
from ..params import Params
from ..validation import check_seed

__all__ = ["Strategy", "StrategyError", "StrategyFinishedError"]


class StrategyFinishedError(NasvizError):
    """``ask()`` was called on a strategy that has nothing left to propose (``finished``)."""


class StrategyError(NasvizError):
    """A strategy's ``ask()``, ``context()`` or ``tell()`` raised during a search.

    The search ends with this error, which names the strategy, the trial and the
    cause; every finished evaluation is journaled first, so a resume continues.
    ``NotImplementedError`` (an unfinished strategy, e.g. an exercise) passes as itself.
    """


class Strategy(Params, ABC):
    """Base class of search strategies (ask/tell).

    Parameters
    ----------
    space : Space
        Any space implementing :class:`nasviz.spaces.Space`.
    seed : int, numpy.random.Generator or None
        Seeds the strategy's own generator ``rng_`` (an int must be >= 0).

    Subclasses take further keyword-only arguments, store them unchanged under the
    same names, check them (:mod:`nasviz.validation`), and keep learned state in
    attributes ending in ``_``. A strategy reads the number of members from
    ``space.size`` (exact, of any size), never ``len(space)``.
    """

    def __init__(self, space, *, seed=None):
        self.space = space
        self.seed = seed
        if not all(callable(getattr(space, m, None)) for m in ("sample", "from_string", "from_decisions")):
            raise InvalidArgumentError(f"space must be a nasviz Space (e.g. nv.CellSpace()), got {space!r}")
        self.rng_ = np.random.default_rng(check_seed("seed", seed, allow_generator=True))
        self.n_asked_ = 0
        self.n_told_ = 0

    @abstractmethod
    def ask(self):
        """The next architecture to evaluate."""

    def tell(self, arch, result) -> None:
        """Learn from ``result`` (a :class:`nasviz.Result`) for an asked ``arch``."""
        self.n_told_ += 1

    def context(self, arch) -> dict:
        """How to evaluate ``arch``: optional ``parent`` and ``fidelity`` keys."""
        return {}

    @property
    def finished(self) -> bool:
        """True when the strategy has nothing more to propose (e.g. an exhausted grid)."""
        return False

    # -- state ---------------------------------------------------------------------
    def state_dict(self) -> dict:
        """JSON-serialisable state, enough to continue exactly where this left off."""
        return {"rng": copy.deepcopy(self.rng_.bit_generator.state),
                "n_asked": self.n_asked_, "n_told": self.n_told_}

    def load_state_dict(self, state: dict) -> None:
        """Restore what :meth:`state_dict` returned."""
        self.rng_ = np.random.default_rng()
        self.rng_.bit_generator.state = copy.deepcopy(state["rng"])
        self.n_asked_ = state["n_asked"]
        self.n_told_ = state["n_told"]

