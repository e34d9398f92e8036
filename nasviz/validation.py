"""Argument checks shared by nasviz's public entry points.

Each ``check_*`` function returns the value in its plain form (``int``, ``bool``,
``float``, a tuple, a numpy array) or raises an error of the nasviz family
(:class:`~nasviz.errors.NasvizError`, a :class:`ValueError`) whose message names
the argument, the bad value (its ``repr``) and what is accepted. Constructors store
their arguments unchanged (scikit-learn style) and call these to check them.

This module imports only numpy and :mod:`nasviz.errors`, so ``import nasviz`` stays
light. :func:`check_choice` and :func:`check_positive_int` live in
:mod:`nasviz.errors` (and stay importable from there); they are re-exported here so
that one import gives every check.

Examples
--------
>>> from nasviz.validation import check_seed, check_bool, check_choices
>>> check_seed("seed", 3), check_bool("unique", True), check_choices("ops", ["a", "b"], types=str)
(3, True, ('a', 'b'))
>>> try:
...     check_seed("seed", -1)
... except ValueError as err:
...     print(err)
seed must be a non-negative integer or None, got -1
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping

import numpy as np

from .errors import (
    InvalidArgumentError,
    NasvizError,
    ShapeError,
    UnknownNameError,
    _listing,
    check_choice,
    check_positive_int,
)

__all__ = [
    "NasvizError",
    "check_bool",
    "check_choice",
    "check_choices",
    "check_finite_array",
    "check_int",
    "check_number",
    "check_positive_int",
    "check_seed",
    "make_rng",
]

_GENERATOR_TYPES = (np.random.Generator, np.random.BitGenerator, np.random.SeedSequence)


def _is_bool(value) -> bool:
    return isinstance(value, (bool, np.bool_))


def _is_int(value) -> bool:
    return isinstance(value, (int, np.integer)) and not _is_bool(value)


def check_seed(what: str, value, allow_none: bool = True, *, allow_generator: bool = False):
    """Return ``value`` as a seed: a non-negative ``int`` (numpy integers too), or ``None``.

    ``bool``, negative numbers, floats and strings are refused. With
    ``allow_generator=True`` a ``numpy.random.Generator`` (or ``BitGenerator``,
    ``SeedSequence``) passes through unchanged: strategies hand their own generator
    to ``space.sample(seed=rng)``.

    Examples
    --------
    >>> import numpy as np
    >>> check_seed("seed", np.int64(7)), check_seed("seed", None)
    (7, None)
    >>> try:
    ...     check_seed("seed", "x", allow_none=False)
    ... except ValueError as err:
    ...     print(err)
    seed must be a non-negative integer, got 'x'
    """
    if value is None and allow_none:
        return None
    if allow_generator and isinstance(value, _GENERATOR_TYPES):
        return value
    if _is_int(value) and value >= 0:
        return int(value)
    accepted = "a non-negative integer"
    if allow_generator:
        accepted += ", a numpy.random.Generator"
    if allow_none:
        accepted += " or None"
    raise InvalidArgumentError(f"{what} must be {accepted}, got {value!r}")


def make_rng(what: str, seed) -> np.random.Generator:
    """A ``numpy.random.Generator`` from a seed checked by :func:`check_seed`
    (an int, ``None`` or a generator, which is returned as it is).

    Examples
    --------
    >>> int(make_rng("seed", 0).integers(10)) == int(make_rng("seed", 0).integers(10))
    True
    """
    return np.random.default_rng(check_seed(what, seed, allow_generator=True))


def check_bool(what: str, value) -> bool:
    """Return ``value`` as a ``bool`` if it is ``True`` or ``False`` (numpy's too), else raise.

    Truthy stand-ins (``"no"``, ``1``, ``None``) are refused: ``"no"`` would read as true.

    Examples
    --------
    >>> check_bool("shuffle", False)
    False
    >>> try:
    ...     check_bool("unique", "no")
    ... except ValueError as err:
    ...     print(err)
    unique must be True or False, got 'no'
    """
    if _is_bool(value):
        return bool(value)
    raise InvalidArgumentError(f"{what} must be True or False, got {value!r}")


def check_int(what: str, value, *, minimum: int | None = None, maximum: int | None = None) -> int:
    """Return ``value`` as an ``int`` if it is an integer (not ``bool``) within the bounds.

    Examples
    --------
    >>> check_int("nodes", 4, minimum=2, maximum=32)
    4
    >>> try:
    ...     check_int("nodes", 4.0, minimum=2)
    ... except ValueError as err:
    ...     print(err)
    nodes must be an integer >= 2, got 4.0
    """
    if minimum is not None and maximum is not None:
        wanted = f"an integer in [{minimum}, {maximum}]"
    elif minimum is not None:
        wanted = f"an integer >= {minimum}"
    elif maximum is not None:
        wanted = f"an integer <= {maximum}"
    else:
        wanted = "an integer"
    if not _is_int(value) or (minimum is not None and value < minimum) or (maximum is not None and value > maximum):
        raise InvalidArgumentError(f"{what} must be {wanted}, got {value!r}")
    return int(value)


def _interval(minimum, maximum, min_open, max_open) -> str:
    lo = "(" if min_open else "["
    hi = ")" if max_open else "]"
    lo_text = "-inf" if minimum is None else f"{minimum:g}" if isinstance(minimum, float) else str(minimum)
    hi_text = "inf" if maximum is None else f"{maximum:g}" if isinstance(maximum, float) else str(maximum)
    return f"{'(' if minimum is None else lo}{lo_text}, {hi_text}{')' if maximum is None else hi}"


def check_number(what: str, value, *, minimum=None, maximum=None, min_open: bool = False, max_open: bool = False,
                 finite: bool = True, allow_none: bool = False):
    """Return ``value`` as a ``float`` if it is a real number (not ``bool``) in the interval
    from ``minimum`` to ``maximum`` (closed ends unless ``min_open``/``max_open``).

    NaN is always refused, infinities unless ``finite=False``. ``None`` passes through
    with ``allow_none=True``.

    Examples
    --------
    >>> check_number("lr", 0.1, minimum=0, min_open=True)
    0.1
    >>> try:
    ...     check_number("dropout", 1.0, minimum=0, maximum=1, max_open=True)
    ... except ValueError as err:
    ...     print(err)
    dropout must be a number in [0, 1), got 1.0
    """
    if value is None and allow_none:
        return None
    interval = _interval(minimum, maximum, min_open, max_open)
    wanted = "a finite number" if (minimum is None and maximum is None) else f"a number in {interval}"
    if minimum is None and maximum is None and not finite:
        wanted = "a number"
    ok = isinstance(value, (int, float, np.integer, np.floating)) and not _is_bool(value)
    if ok:
        x = float(value)
        ok = not math.isnan(x) and (math.isfinite(x) or not finite)
        if ok and minimum is not None:
            ok = x > minimum if min_open else x >= minimum
        if ok and maximum is not None:
            ok = x < maximum if max_open else x <= maximum
    if not ok:
        raise InvalidArgumentError(f"{what} must be {wanted}, got {value!r}")
    return x


def check_choices(what: str, values, accepted: Iterable[object] | None = None, *, types=None,
                  error=UnknownNameError, distinct: bool = True, allow_empty: bool = False) -> tuple:
    """Return ``values`` as a tuple if it is a sequence (a list, tuple, ...) of accepted choices.

    A plain string is refused (it is not a list of names: ``"abc"`` would be the
    choices ``a``, ``b``, ``c``), and so are mappings, sets (no order) and
    non-iterables. Each element must be one of ``accepted`` (when given; else
    ``error`` names it and the accepted ones) and an instance of ``types`` (when
    given). ``distinct`` refuses repeats; ``allow_empty`` allows no choice at all.

    Examples
    --------
    >>> check_choices("ops", ("conv", "identity"), ["conv", "max_pool", "identity"])
    ('conv', 'identity')
    >>> try:
    ...     check_choices("ops", "conv", ["conv", "identity"])
    ... except ValueError as err:
    ...     print(err)
    ops must be a list or tuple of choices such as ['conv'], got the string 'conv'; accepted: 'conv', 'identity'
    """
    accepted = None if accepted is None else list(accepted)
    tail = "" if accepted is None else f"; accepted: {_listing(accepted)}"
    example = repr([values]) if isinstance(values, str) else "[...]"
    if isinstance(values, (str, bytes)):
        raise InvalidArgumentError(
            f"{what} must be a list or tuple of choices such as {example}, got the string {values!r}{tail}")
    if isinstance(values, (Mapping, set, frozenset)) or not isinstance(values, Iterable):
        raise InvalidArgumentError(f"{what} must be a list or tuple of choices, got {values!r}{tail}")
    items = tuple(values)
    if not items and not allow_empty:
        raise InvalidArgumentError(f"{what} must offer at least one choice, got {values!r}{tail}")
    for v in items:
        if types is not None and not isinstance(v, types):
            names = types.__name__ if isinstance(types, type) else " or ".join(t.__name__ for t in types)
            raise InvalidArgumentError(f"each of {what} must be a {names}, got {v!r} in {values!r}")
        if accepted is not None and v not in accepted:
            raise error(f"unknown {what.removesuffix('s')} {v!r}; accepted: {_listing(accepted)}")
    if distinct:
        seen = []
        for v in items:
            if v in seen:
                raise InvalidArgumentError(f"{what} must be distinct, got {v!r} twice in {values!r}")
            seen.append(v)
    return items


def check_finite_array(what: str, array, *, ndim: int | tuple[int, ...] | None = None, allow_empty: bool = False,
                       dtype=None) -> np.ndarray:
    """Return ``array`` as a numpy array of real numbers, all finite, else raise.

    Accepts anything ``numpy.asarray`` reads (lists, arrays, CPU or GPU tensors: a
    tensor is detached and copied to the CPU). Refused: complex, string, object
    and other non-numeric dtypes, NaN or infinite entries (the first one is named
    with its index), no entries at all (unless ``allow_empty``), and a number of
    dimensions other than ``ndim`` (an int or a tuple of accepted ones). ``dtype``
    converts the checked array (e.g. ``numpy.float32``).

    Examples
    --------
    >>> check_finite_array("X", [[0.0, 1.0]]).shape
    (1, 2)
    >>> try:
    ...     check_finite_array("X", [[0.0, float("nan")]])
    ... except ValueError as err:
    ...     print(err)
    X must hold finite numbers; found nan at index (0, 1)
    """
    if hasattr(array, "detach") and hasattr(array, "cpu"):  # a torch tensor, without importing torch
        array = array.detach().cpu().numpy()
    try:
        arr = np.asarray(array)
    except (TypeError, ValueError) as err:
        raise ShapeError(f"{what} must be an array of numbers, got {type(array).__name__}: {err}") from None
    if arr.dtype.kind not in "biuf":
        raise InvalidArgumentError(f"{what} must hold real numbers (integers or floats), got dtype {arr.dtype}; "
                                   f"convert it first, e.g. {what}.astype('float32')")
    if ndim is not None:
        accepted = (ndim,) if isinstance(ndim, int) else tuple(ndim)
        if arr.ndim not in accepted:
            wanted = " or ".join(str(d) for d in accepted)
            raise ShapeError(f"{what} must have {wanted} dimensions, got shape {arr.shape}")
    if arr.size == 0 and not allow_empty:
        raise ShapeError(f"{what} is empty (shape {arr.shape}); it needs at least one entry")
    if arr.dtype.kind == "f":
        bad = ~np.isfinite(arr)
        if bad.any():
            where = tuple(int(i) for i in np.argwhere(bad)[0])
            raise InvalidArgumentError(f"{what} must hold finite numbers; found {float(arr[where])!r} at index "
                                       f"{where if len(where) != 1 else where[0]}")
    if dtype is None:
        return arr
    with np.errstate(over="ignore", invalid="ignore"):
        out = arr.astype(dtype, copy=False)
    if out.dtype.kind == "f" and arr.dtype.kind in "biuf" and not np.isfinite(out).all():
        where = tuple(int(i) for i in np.argwhere(~np.isfinite(out))[0])
        raise InvalidArgumentError(f"{what} holds {arr[where].item()!r} at index {where}, too large for "
                                   f"{np.dtype(dtype).name}")
    return out
