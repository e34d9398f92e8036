"""The search-space protocol shared by every space, built-in or user-defined.

A space describes its members as a fixed sequence of **decisions**, each a name and
a tuple of choices. An architecture is the tuple of choices made (its
``decisions``). From that small core (``decisions``, ``from_decisions``,
``to_decisions``, ``build``) this base class derives sampling, mutation,
neighbourhoods, one-hot encoding, enumeration and indexing, so a new space needs
only a few lines (see ``docs`` in :class:`Space`). Strategies such as REINFORCE
and MCTS walk the same decision sequence.

Spaces never import torch at module import time; ``build`` does.
"""

from __future__ import annotations

import importlib
import itertools
import json
import math
import sys
import threading
from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence

import numpy as np

from ..errors import InvalidArchitectureError, InvalidArgumentError, SpaceTooLargeError, UnknownNameError
from ..params import alias_hooks
from ..validation import make_rng

__all__ = ["Architecture", "Decision", "Space", "count_text"]


def count_text(n: int) -> str:
    """``n`` with thousands separators, or about ``m x 10^e`` once it has more than 30
    digits (Python refuses ``str`` of ints beyond 4,300 digits anyway).

    Examples
    --------
    >>> count_text(15625), count_text(3 * 10**5000)
    ('15,625', 'about 3.00 x 10^5000')
    """
    if n < 10**30:
        return f"{n:,}"
    log = math.log10(n)
    exponent = math.floor(log)
    return f"about {10 ** (log - exponent):.2f} x 10^{exponent}"


class Decision(tuple):
    """A named decision: ``Decision(name, choices)``; behaves as ``(name, choices)``."""

    def __new__(cls, name: str, choices: Sequence[object]):
        return super().__new__(cls, (name, tuple(choices)))

    @property
    def name(self) -> str:
        return self[0]

    @property
    def choices(self) -> tuple:
        return self[1]

    def __repr__(self) -> str:
        return f"Decision({self.name!r}, {self.choices!r})"

    def __getnewargs__(self):  # pickling (e.g. a space sent to worker processes after .decisions was read)
        return self[0], self[1]


class Architecture(ABC):
    """An immutable, hashable member of a search space: plain data, not a network.

    Subclasses define ``decisions`` (the tuple of choices), ``__str__`` and
    ``to_networkx``. Equality and hashing use the class and ``decisions``.
    """

    __slots__ = ()

    @property
    @abstractmethod
    def decisions(self) -> tuple:
        """The choices that define this architecture, one per decision of its space."""

    @abstractmethod
    def to_networkx(self):
        """This architecture as a ``networkx.DiGraph``."""

    def to_json(self) -> str:
        """A JSON string that the space's ``from_json`` reads back."""
        return json.dumps({"type": type(self).__name__, "decisions": list(self.decisions)})

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and other.decisions == self.decisions

    def __hash__(self) -> int:
        return hash((type(self).__name__, self.decisions))

    def __lt__(self, other: Architecture) -> bool:  # deterministic sorting
        return str(self) < str(other)

    def __setattr__(self, name, value):
        raise AttributeError(f"{type(self).__name__} is immutable; use the space's mutate()")

    def _repr_png_(self):
        """Draw in Jupyter (PNG, so that the picture survives on GitHub and nbval)."""
        import io

        from matplotlib.figure import Figure  # no pyplot: no global figure state, no double display

        # drawing depends on spaces, never the reverse: the drawing is looked up when Jupyter asks for it
        drawing = importlib.import_module("nasviz.drawing")
        fig = Figure(figsize=drawing.default_figsize(self), dpi=80)
        drawing.draw(self, ax=fig.add_subplot())
        buf = io.BytesIO()
        fig.savefig(buf, format="png", bbox_inches="tight")
        return buf.getvalue()


class Space(ABC):
    """Base class of search spaces.

    A subclass implements:

    - ``decisions`` (property): a list of :class:`Decision` ``(name, choices)``;
    - ``from_decisions(values)`` -> :class:`Architecture`, and ``to_decisions(arch)``;
    - ``from_string(text)`` (the inverse of ``str(arch)``);
    - ``build(arch, num_classes=10, in_channels=1, **kwargs)`` -> ``torch.nn.Module``.

    It then gets ``sample``, ``mutate``, ``neighbors``, ``encode``, ``enumerate``,
    ``size``, ``len``, ``index``, ``space[i]``, ``in`` and ``from_json`` for free; override any of
    them where the space knows better (e.g. to skip invalid combinations).
    ``size`` is the exact number of members (a Python int, however large); ``len(space)``
    gives the same where it fits an index and raises
    :class:`~nasviz.errors.SpaceTooLargeError` (pointing to ``size``) otherwise.
    ``canonical(arch)`` defaults to ``str(arch)``: override it where distinct
    architectures compute the same function.

    Examples
    --------
    >>> import nasviz as nv
    >>> space = nv.CellSpace()
    >>> a = space.sample(seed=0)
    >>> a == space.from_string(str(a)) and a == space[space.index(a)]
    True
    """

    # -- the core a space defines -------------------------------------------------
    @property
    @abstractmethod
    def decisions(self) -> list[Decision]:
        """The sequence of decisions that define a member of this space."""

    @abstractmethod
    def from_decisions(self, values: Sequence[object]) -> Architecture:
        """The architecture for one choice per decision."""

    def to_decisions(self, arch: Architecture) -> tuple:
        """The choices of ``arch``, one per decision."""
        return tuple(self._check_member(arch).decisions)

    @abstractmethod
    def from_string(self, text: str) -> Architecture:
        """Read an architecture back from ``str(arch)``."""

    @abstractmethod
    def build(self, arch: Architecture, num_classes: int = 10, in_channels: int = 1, **kwargs):
        """A ``torch.nn.Module`` for ``arch``."""

    # -- derived ------------------------------------------------------------------
    def validate(self, arch: Architecture | str) -> Architecture:
        """``arch`` if it is a member of this space (a string is parsed first); else raise.

        Raises
        ------
        InvalidArchitectureError
            ``arch`` is neither an :class:`Architecture` nor a string, or not a member;
            a string that does not parse raises what :meth:`from_string` raises.

        Examples
        --------
        >>> import nasviz as nv
        >>> space = nv.CellSpace()
        >>> arch = space.sample(seed=0)
        >>> space.validate(arch) is arch, space.validate(str(arch)) == arch
        (True, True)
        >>> space.validate(42)
        Traceback (most recent call last):
        ...
        nasviz.errors.InvalidArchitectureError: expected an Architecture of CellSpace (or its string), got 42
        """
        if not isinstance(arch, Architecture):
            if isinstance(arch, str):
                return self.from_string(arch)
            raise InvalidArchitectureError(
                f"expected an Architecture of {type(self).__name__} (or its string), got {arch!r}"
            )
        if arch not in self:
            raise InvalidArchitectureError(f"{arch!r} is not a member of {self!r}")
        return arch

    def _check_member(self, arch: Architecture) -> Architecture:
        """:meth:`validate` (the name the spaces' own methods, and older subclasses, call)."""
        return self.validate(arch)

    def __contains__(self, arch: object) -> bool:
        if not isinstance(arch, Architecture):
            return False
        values = tuple(arch.decisions)
        decisions = self.decisions
        return (len(values) == len(decisions)
                and all(v in d.choices for v, d in zip(values, decisions))
                and self.is_valid(values))

    def is_valid(self, values: tuple) -> bool:
        """The hook: whether a full decision tuple is a member (override to exclude some; default: all are).

        Every derived method (``len``, ``enumerate``, ``index``, ``sample``, ``neighbors``,
        ``in``) honours it. (``_valid``, the hook's earlier name, still works: a subclass
        may define either name.)
        """
        return True

    _valid = is_valid  # the hook's earlier name

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        alias_hooks(cls, [("is_valid", "_valid")])

    @property
    def restricted(self) -> bool:
        """Whether the space excludes some decision tuples (a subclass defines ``is_valid``)."""
        return type(self).is_valid is not Space.is_valid

    @property
    def size(self) -> int:
        """The exact number of members, a Python int of any size (``len()`` is limited to
        ``sys.maxsize``). Strategies use this, never ``len(space)``."""
        if type(self).__len__ is not Space.__len__:  # a space that counts itself
            return len(self)
        if not self.restricted:
            return math.prod(len(d.choices) for d in self.decisions)
        return sum(1 for _ in self.enumerate())

    def __len__(self) -> int:
        n = self.size
        if n > sys.maxsize:
            raise SpaceTooLargeError(
                f"{self!r} has {count_text(n)} members, more than len() can return; use space.size")
        return n

    def enumerate(self) -> Iterator[Architecture]:
        """Every member, in index order."""
        for values in itertools.product(*(d.choices for d in self.decisions)):
            if self.is_valid(values):
                yield self.from_decisions(values)

    def index(self, arch: Architecture) -> int:
        """The position of ``arch`` in :meth:`enumerate` (mixed radix over decisions)."""
        values = self.to_decisions(arch)
        if self.restricted:
            for i, member in enumerate(self.enumerate()):
                if member == arch:
                    return i
            raise InvalidArchitectureError(f"{arch!r} is not a member of {self!r}")
        idx = 0
        for v, d in zip(values, self.decisions):
            idx = idx * len(d.choices) + d.choices.index(v)
        return idx

    def __getitem__(self, i: int) -> Architecture:
        n = self.size
        if isinstance(i, bool) or not isinstance(i, (int, np.integer)) or not -n <= i < n:
            bound = str(n) if n.bit_length() < 3000 else count_text(n)
            raise InvalidArgumentError(f"index must be an integer in [-{bound}, {bound}) (space.size), got {i!r}")
        i = int(i) % n
        if self.restricted:
            return next(itertools.islice(self.enumerate(), i, None))
        values = []
        for d in reversed(self.decisions):
            i, r = divmod(i, len(d.choices))
            values.append(d.choices[r])
        return self.from_decisions(tuple(reversed(values)))

    def sample(self, seed=None) -> Architecture:
        """A uniformly random member. ``seed``: an int >= 0, ``None`` or a ``numpy.random.Generator``."""
        rng = make_rng("seed", seed)
        while True:
            values = tuple(d.choices[rng.integers(len(d.choices))] for d in self.decisions)
            if self.is_valid(values):
                return self.from_decisions(values)

    def neighbors(self, arch: Architecture) -> list[Architecture]:
        """Every valid member that differs from ``arch`` in exactly one decision."""
        values = list(self.to_decisions(arch))
        out = []
        for k, d in enumerate(self.decisions):
            for c in d.choices:
                if c == values[k]:
                    continue
                cand = tuple(values[:k] + [c] + values[k + 1:])
                if self.is_valid(cand):
                    out.append(self.from_decisions(cand))
        return out

    def mutate(self, arch: Architecture, seed=None) -> Architecture:
        """A random neighbour of ``arch``: exactly one decision changes."""
        rng = make_rng("seed", seed)
        options = self.neighbors(arch)
        if not options:
            raise InvalidArchitectureError(f"{arch!r} has no neighbour to mutate to")
        return options[rng.integers(len(options))]

    def encode(self, arch: Architecture, kind: str = "onehot") -> np.ndarray:
        """A numeric vector for ``arch``; ``kind="onehot"``: one block per decision."""
        if kind != "onehot":
            raise UnknownNameError(f"unknown encoding {kind!r}; accepted: 'onehot'")
        values = self.to_decisions(arch)
        parts = []
        for v, d in zip(values, self.decisions):
            block = np.zeros(len(d.choices), dtype=np.float32)
            block[d.choices.index(v)] = 1.0
            parts.append(block)
        return np.concatenate(parts)

    def canonical(self, arch: Architecture) -> str:
        """A form equal for architectures that compute the same function (here: ``str``)."""
        return str(self._check_member(arch))

    def canonical_classes(self) -> tuple[np.ndarray, np.ndarray]:
        """``(class_of, representatives)``: the members grouped by :meth:`canonical`.

        ``representatives[k]`` is the lowest index of class ``k`` (classes are numbered
        in that order) and ``class_of[i]`` the class of ``space[i]``. Computed once per
        space (every member is visited), then kept for the process; read-only arrays.

        Examples
        --------
        >>> import nasviz as nv
        >>> class_of, reps = nv.CellSpace().canonical_classes()
        >>> len(class_of), len(reps), int(reps[0]), int(class_of[reps[5]])
        (15625, 6466, 0, 5)
        """
        key = (type(self), repr(self))
        with _CLASSES_LOCK:
            if key not in _CLASSES:
                _CLASSES[key] = _group_by_canonical(self)
            return _CLASSES[key]

    def from_json(self, text: str) -> Architecture:
        """Read an architecture back from :meth:`Architecture.to_json`."""
        try:
            payload = json.loads(text)
            values = payload["decisions"]
        except (ValueError, KeyError, TypeError) as err:
            raise InvalidArchitectureError(
                f"not an architecture JSON string (expected {{'decisions': [...]}}): {text!r}"
            ) from err
        if not isinstance(values, list):
            raise InvalidArchitectureError(
                f"not an architecture JSON string: 'decisions' must be a list, got {values!r} in {text!r}")
        values = tuple(tuple(v) if isinstance(v, list) else v for v in values)
        arch = self.from_decisions(values)
        return self._check_member(arch)



_CLASSES: dict = {}  # (space type, repr) -> (class_of, representatives)
_CLASSES_LOCK = threading.Lock()


def _group_by_canonical(space) -> tuple[np.ndarray, np.ndarray]:
    first: dict = {}
    class_of = np.empty(space.size, dtype=np.int64)
    reps = []
    for i, arch in enumerate(space.enumerate()):
        form = space.canonical(arch)
        if form not in first:
            first[form] = len(reps)
            reps.append(i)
        class_of[i] = first[form]
    reps = np.array(reps, dtype=np.int64)
    class_of.flags.writeable = False
    reps.flags.writeable = False
    return class_of, reps
