"""The nasviz error family.

Every error that nasviz raises because of a bad argument is a :class:`NasvizError`,
which subclasses :class:`ValueError`. Messages name the bad value and what is
accepted, so that the caller can fix the call without reading the source.

Examples
--------
>>> import nasviz as nv
>>> try:
...     nv.CellSpace().from_string("|conv~0|+|none~0|none~1|+|none~0|none~1|none~2|")
... except nv.errors.NasvizError as err:
...     print(type(err).__name__)
UnknownOpError
"""

from __future__ import annotations

from collections.abc import Iterable

__all__ = [
    "NasvizError",
    "InvalidArchitectureError",
    "UnknownOpError",
    "UnknownNameError",
    "InvalidArgumentError",
    "ShapeError",
    "check_choice",
    "check_positive_int",
]


class NasvizError(ValueError):
    """Base class of every error nasviz raises for bad input."""


class InvalidArchitectureError(NasvizError):
    """A malformed architecture: a bad cell string, wrong number of edges or layers."""


class UnknownOpError(InvalidArchitectureError):
    """An operation name that the search space does not offer."""


class UnknownNameError(NasvizError):
    """A name (proxy, strategy, benchmark, metric, ...) that is not one of the accepted ones."""


class InvalidArgumentError(NasvizError):
    """A numeric or structural argument outside its accepted range."""


class ShapeError(NasvizError):
    """Data or input of the wrong shape."""


def _listing(accepted: Iterable[object]) -> str:
    return ", ".join(repr(a) for a in accepted)


def check_choice(what: str, value: object, accepted: Iterable[object], error=UnknownNameError):
    """Return ``value`` if it is one of ``accepted``, else raise ``error`` naming both.

    Examples
    --------
    >>> check_choice("metric", "val_acc", ["val_acc", "test_acc"])
    'val_acc'
    """
    accepted = list(accepted)
    if value not in accepted:
        raise error(f"unknown {what} {value!r}; accepted: {_listing(accepted)}")
    return value


def check_positive_int(what: str, value: object, *, minimum: int = 1) -> int:
    """Return ``value`` as an int if it is an integer >= ``minimum``, else raise.

    Examples
    --------
    >>> check_positive_int("budget", 10)
    10
    """
    if isinstance(value, bool) or not isinstance(value, (int,)) and not (
        hasattr(value, "__index__")
    ):
        raise InvalidArgumentError(f"{what} must be an integer >= {minimum}, got {value!r}")
    value = int(value)
    if value < minimum:
        raise InvalidArgumentError(f"{what} must be an integer >= {minimum}, got {value!r}")
    return value
