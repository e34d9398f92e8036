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
    "SpaceTooLargeError",
    "InvalidFileError",
    "JournalError",
    "JournalBusyError",
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


class SpaceTooLargeError(InvalidArgumentError, OverflowError):
    """``len(space)`` of a space with more members than an index can hold; use ``space.size``.

    Also an :class:`OverflowError`, which is what ``len()`` raises for such sizes.
    """


class InvalidFileError(InvalidArgumentError):
    """A file that cannot be read as what it should be; the message names the file and the cause."""


class JournalError(NasvizError):
    """A journal that cannot be used as asked: not a nasviz journal, already holding a run,
    damaged, unreadable or unwritable, or not matching the strategy that replays it.
    The message names the file and the cause."""


class JournalBusyError(JournalError):
    """Another search (this process or another one) is writing the journal right now."""


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


def check_positive_int(what: str, value: object, *, minimum: int = 1, maximum: int | None = None) -> int:
    """Return ``value`` as an int if it is an integer >= ``minimum`` (and <= ``maximum``
    when given), else raise :class:`InvalidArgumentError` naming both.

    Python and numpy integers are accepted; ``bool``, floats and strings are not.
    (Also importable from :mod:`nasviz.validation`, with the other checks.)

    Examples
    --------
    >>> check_positive_int("budget", 10)
    10
    >>> try:
    ...     check_positive_int("max_layers", 3000, maximum=100)
    ... except InvalidArgumentError as err:
    ...     print(err)
    max_layers must be at most 100, got 3000 (accepted: integers 1..100)
    """
    accepted = "" if maximum is None else f" (accepted: integers {minimum}..{maximum})"
    if isinstance(value, bool) or type(value).__name__ == "bool_" or not hasattr(value, "__index__"):
        raise InvalidArgumentError(f"{what} must be an integer >= {minimum}, got {value!r}{accepted}")
    try:
        number = int(value.__index__())
    except (TypeError, ValueError):  # e.g. a tensor of several numbers
        raise InvalidArgumentError(f"{what} must be an integer >= {minimum}, got {value!r}{accepted}") from None
    if number < minimum:
        raise InvalidArgumentError(f"{what} must be an integer >= {minimum}, got {value!r}{accepted}")
    if maximum is not None and number > maximum:
        raise InvalidArgumentError(f"{what} must be at most {maximum}, got {value!r}{accepted}")
    return number
