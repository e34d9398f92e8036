"""Objects that store their constructor's keyword arguments, and what that buys.

nasviz's spaces, strategies and estimators store their keyword arguments unchanged
under the same names (scikit-learn's rule). :class:`Params` reads them back
(``get_params``) and writes the ``repr``; :func:`describe` records them as JSON for a
journal and :func:`rebuild` builds the object again from that record, for classes of
the nasviz package only (a journal is data: reading one imports nothing else).

Examples
--------
>>> import nasviz as nv
>>> strategy = nv.strategies.RegularizedEvolution(nv.CellSpace(), population=10, seed=0)
>>> strategy.get_params()["population"], describe(strategy)["kwargs"]
(10, {'population': 10, 'sample': 5, 'seed': 0})
>>> rebuild(describe(strategy), nv.strategies.Strategy, nv.CellSpace())
RegularizedEvolution(space=CellSpace(), seed=0, population=10, sample=5)
"""

from __future__ import annotations

import importlib
import inspect
import json

from .errors import JournalError

__all__ = ["Params", "alias_hooks", "constructor_params", "describe", "rebuild"]


def constructor_params(cls) -> list[str]:
    """The names of ``cls``'s constructor parameters (no ``self``, ``*args`` or ``**kwargs``)."""
    try:
        sig = inspect.signature(cls.__init__)
    except (TypeError, ValueError):
        return []
    return [n for n, p in sig.parameters.items()
            if n != "self" and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]


class Params:
    """Mixin: ``get_params()`` and a ``repr`` from the constructor's stored keyword arguments."""

    def get_params(self) -> dict:
        """The constructor's arguments as stored, in the order they were set."""
        names = set(constructor_params(type(self)))
        return {k: v for k, v in vars(self).items() if k in names}

    def __repr__(self) -> str:
        params = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items())
        return f"{type(self).__name__}({params})"


def _class_path(cls) -> str:
    return f"{cls.__module__}:{cls.__qualname__}"


def describe(obj, skip=("space",)) -> dict:
    """``{"class", "kwargs", "repr"}`` for a space, strategy or estimator.

    ``kwargs`` are the constructor's keyword arguments read back from the attributes
    of the same names (nasviz objects store them unchanged), or None when some are
    missing or are not JSON data (then a resume needs the object passed again).
    """
    kwargs = None
    try:
        names = [n for n in constructor_params(type(obj)) if n not in skip]
        if all(hasattr(obj, n) for n in names):
            text = json.dumps({n: getattr(obj, n) for n in names})  # strict: the values must round-trip
            kwargs = json.loads(text)
    except (TypeError, ValueError):
        kwargs = None
    return {"class": _class_path(type(obj)), "kwargs": kwargs, "repr": repr(obj)}


def rebuild(description: dict, base: type, *args):
    """An object from :func:`describe`'s output: ``Class(*args, **kwargs)``.

    Only classes of the ``nasviz`` package are rebuilt: a journal is data, and reading
    one never imports a module it names. For any other class (your own strategy or
    space, or one defined in a notebook) pass the object instead; the
    :class:`JournalError` says which argument.
    """
    if not isinstance(description, dict):
        raise JournalError(f"the journal describes a {base.__name__.lower()} as {description!r}, "
                           "not as {'class': ..., 'kwargs': ...}; the journal is damaged")
    path = description.get("class") or ""
    what = base.__name__.lower()
    path = path if isinstance(path, str) else repr(path)
    module_name, _, qualname = path.partition(":")
    hint = f"pass {what}= (a new {description.get('repr', path)} built as in the original run)"
    if description.get("kwargs") is None or not isinstance(description.get("kwargs"), dict):
        raise JournalError(f"the journal cannot rebuild the {what} {description.get('repr')!r} "
                           f"(its constructor arguments are not plain data); {hint}")
    if module_name in ("", "__main__") or not qualname:
        raise JournalError(f"the {what} class {path!r} was defined in a script or notebook; {hint}")
    if module_name != "nasviz" and not module_name.startswith("nasviz."):
        raise JournalError(f"the {what} class {path!r} is not part of nasviz, and a journal never imports "
                           f"other modules; {hint}")
    try:
        obj = importlib.import_module(module_name)
        for part in qualname.split("."):
            obj = getattr(obj, part)
    except (ImportError, AttributeError) as err:
        raise JournalError(f"cannot import the {what} class {path!r} ({err}); {hint}") from None
    if not (isinstance(obj, type) and issubclass(obj, base)):
        raise JournalError(f"{path!r} is not a {base.__name__} subclass; {hint}")
    try:
        return obj(*args, **description["kwargs"])
    except Exception as err:  # noqa: BLE001 - any failure means: ask the caller
        raise JournalError(f"cannot rebuild {description.get('repr')!r}: {type(err).__name__}: {err}; {hint}") \
            from None


def alias_hooks(cls, pairs) -> None:
    """Give ``cls`` each hook of ``pairs`` (``(public, earlier)`` names) under both names.

    A class that defines only one name of a pair gets the same function under the
    other, so every caller (and every ``super()`` call, under either name) reaches the
    most derived definition. Call it from ``__init_subclass__`` of the base class that
    offers the hooks.
    """
    for public, earlier in pairs:
        if earlier in cls.__dict__ and public not in cls.__dict__:
            setattr(cls, public, cls.__dict__[earlier])
        elif public in cls.__dict__ and earlier not in cls.__dict__:
            setattr(cls, earlier, cls.__dict__[public])
