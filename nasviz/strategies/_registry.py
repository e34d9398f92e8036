"""Strategies by short name, for the command line and the widgets."""

from __future__ import annotations

from ..errors import InvalidArgumentError, UnknownNameError

__all__ = ["DIFFERENTIABLE", "available", "get", "strategy_class"]

_NAMES = {
    "random": ("._random", "RandomSearch"),
    "exhaustive": ("._exhaustive", "Exhaustive"),
    "evolution": ("._evolution", "RegularizedEvolution"),
    "local": ("._local", "LocalSearch"),
    "bo": ("._bo", "BayesianOptimization"),
    "reinforce": ("._reinforce", "REINFORCE"),
    "mcts": ("._mcts", "MCTS"),
    "sh": ("._successive_halving", "SuccessiveHalving"),
    "hyperband": ("._hyperband", "Hyperband"),
    "darts": ("._differentiable", "Differentiable", {"method": "darts"}),
    "gdas": ("._differentiable", "Differentiable", {"method": "gdas"}),
}


#: Strategies that train a supernet on images (``data=``) instead of learning from told results.
DIFFERENTIABLE = ("darts", "gdas")


def available(differentiable: bool = True) -> list[str]:
    """The short names that :func:`get` accepts (``differentiable=False``: without :data:`DIFFERENTIABLE`,
    the strategies that need only a space and a seed).

    Examples
    --------
    >>> import nasviz as nv
    >>> nv.strategies.available()[:3]
    ['random', 'exhaustive', 'evolution']
    >>> nv.strategies.available()[-2:], "darts" in nv.strategies.available(differentiable=False)
    (['darts', 'gdas'], False)
    """
    return [n for n in _NAMES if differentiable or n not in DIFFERENTIABLE]


def strategy_class(name: str):
    """``(class, defaults)`` of the strategy ``name`` (a short name or a class name), without building it:
    ``defaults`` are the keyword arguments the short name fixes (``{"method": "gdas"}`` for ``"gdas"``).

    Examples
    --------
    >>> strategy_class("gdas")
    (<class 'nasviz.strategies._differentiable.Differentiable'>, {'method': 'gdas'})
    """
    import importlib

    key = name
    if isinstance(name, str) and name not in _NAMES:
        by_class = {}
        for short, (_, cls, *_defaults) in _NAMES.items():
            by_class.setdefault(cls.lower(), short)  # a class under several names: its first
        key = by_class.get(name.lower(), name.lower())
    if not isinstance(key, str) or key not in _NAMES:
        raise UnknownNameError(
            f"unknown strategy {name!r}; accepted: {', '.join(map(repr, _NAMES))} (or their class names)"
        )
    module, cls_name, *defaults = _NAMES[key]
    return getattr(importlib.import_module(module, __package__), cls_name), dict(defaults[0] if defaults else {})


def get(name: str, space, **kwargs):
    """A strategy by short name (see :func:`available`) or class name, built on ``space``.

    Keyword arguments go to the strategy's constructor (``seed=``, its knobs).

    Examples
    --------
    >>> import nasviz as nv
    >>> nv.strategies.get("evolution", nv.CellSpace(), population=10, seed=0)
    RegularizedEvolution(space=CellSpace(), seed=0, population=10, sample=5)
    """
    import inspect

    cls, defaults = strategy_class(name)
    kwargs = {**defaults, **kwargs}
    cls_name = cls.__name__
    params = inspect.signature(cls).parameters
    accepted = [p for p, v in params.items() if p != "space" and v.kind is inspect.Parameter.KEYWORD_ONLY]
    takes_any = any(v.kind is inspect.Parameter.VAR_KEYWORD for v in params.values())
    unknown = [] if takes_any else [k for k in kwargs if k not in accepted]
    if unknown:
        raise InvalidArgumentError(
            f"unknown argument{'s' if len(unknown) > 1 else ''} {', '.join(map(repr, unknown))} for {cls_name}; "
            f"accepted: {', '.join(map(repr, accepted))}"
        )
    return cls(space, **kwargs)
