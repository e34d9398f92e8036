"""The sandbox the checks run in: global random state kept, torch on one thread.

Students' code must draw its random numbers from generators of its own (a seed's
``numpy.random.Generator``, a strategy's ``rng_``, a ``torch.Generator``), never
from the global ones. :func:`sandbox` watches the global generators, says which
the code under test moved (:meth:`Sandbox.changed`, for the step
:func:`leaves_global_state`), and restores them afterwards, so that a check leaves
no trace in the notebook that runs it.

Examples
--------
>>> import random
>>> with sandbox() as box:
...     _ = random.random()
...     box.changed()
["Python's random module"]
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np

from ..devices import torch_threads

__all__ = ["CallWatch", "Sandbox", "leaves_global_state", "rng_advice", "sandbox"]

_GENERATORS = {
    "random": "Python's random module",
    "numpy": "numpy's global generator (np.random.*)",
    "torch": "torch's global generator (torch.rand*, torch.manual_seed, nn.Module initialisation)",
}


def _states(with_torch: bool) -> dict:
    states = {"random": random.getstate(), "numpy": np.random.get_state()}
    if with_torch:
        import torch

        states["torch"] = torch.random.get_rng_state()
    return states


def _same(kind: str, a, b) -> bool:
    if kind == "numpy":
        return a[0] == b[0] and np.array_equal(a[1], b[1]) and a[2:] == b[2:]
    if kind == "torch":
        return bool((a == b).all())
    return a == b


class Sandbox:
    """What :func:`sandbox` yields: which global generators the code under test drew from.

    :meth:`mark` takes a snapshot of the global generators (Python's ``random``,
    numpy's, and torch's when the sandbox watches torch); :meth:`changed` names those
    that moved since.
    """

    def __init__(self, with_torch: bool):
        self.with_torch = with_torch
        self.mark()

    def mark(self) -> None:
        """Start watching here: :meth:`changed` compares with the generators as they are now."""
        self._marked = _states(self.with_torch)

    def changed(self) -> list[str]:
        """The global generators that moved since :meth:`mark`, in words (empty: none)."""
        now = _states(self.with_torch)
        return [_GENERATORS[k] for k, v in self._marked.items() if not _same(k, v, now[k])]


@contextmanager
def sandbox(torch: bool = False) -> Iterator[Sandbox]:
    """Run checks without leaving a trace in global state; yields a :class:`Sandbox`.

    On exit the global generators of Python's ``random`` and numpy (and torch's, with
    ``torch=True``) are restored, whatever the student's code drew. With ``torch=True``
    torch also runs on one thread meanwhile (restored after): small networks run
    fastest that way, and on a machine shared with other work the threads do not wait
    on each other.

    Examples
    --------
    >>> import numpy as np
    >>> before = np.random.get_state()[2]
    >>> with sandbox() as box:
    ...     _ = np.random.random()
    ...     box.changed()
    ["numpy's global generator (np.random.*)"]
    >>> np.random.get_state()[2] == before
    True
    """
    saved = _states(torch)
    try:
        with torch_threads(1 if torch else None):
            yield Sandbox(torch)
    finally:
        random.setstate(saved["random"])
        np.random.set_state(saved["numpy"])
        if torch:
            import torch as _torch

            _torch.random.set_rng_state(saved["torch"])


def leaves_global_state(case) -> tuple[bool, str]:
    """The step "leaves global random state alone": ``case.changed`` must be empty.

    ``case.changed`` lists the generators that moved (:meth:`Sandbox.changed`);
    ``case.random_advice(generators)`` says, for the case's assignment, how to draw
    from a generator of one's own instead.
    """
    if case.changed:
        return False, case.random_advice(" and ".join(case.changed))
    return True, ""


def rng_advice(what: str) -> str:
    """``what``, then how to draw random choices from the seed's own generator.

    Examples
    --------
    >>> rng_advice("f drew twice").startswith("f drew twice: every random choice")
    True
    """
    return (f"{what}: every random choice must come from the generator made from the seed, "
            "e.g. rng = np.random.default_rng(seed); rng.integers(...)")


class CallWatch:
    """Records which of some functions run while it is active (``with CallWatch(code) as watch``).

    ``code`` maps code objects to names (``"Space.is_connected"``). A profile hook
    (:func:`sys.setprofile`, restored afterwards, on this thread) sees every Python call,
    also of methods bound before the watch began or reached through other objects, and
    keeps the names of the watched functions that ran in :attr:`names`, in order of
    first call. Nothing is replaced: the code under test runs as it is.

    Examples
    --------
    >>> def helper():
    ...     return 1
    >>> with CallWatch({helper.__code__: "helper"}) as watch:
    ...     _ = helper()
    >>> watch.names
    ['helper']
    """

    def __init__(self, code: dict):
        self.code = code
        self.names: list[str] = []

    def _hook(self, frame, event, arg):
        if event == "call":
            name = self.code.get(frame.f_code)
            if name is not None and name not in self.names:
                self.names.append(name)

    def __enter__(self) -> CallWatch:
        import sys

        self._saved = sys.getprofile()
        sys.setprofile(self._hook)
        return self

    def __exit__(self, *exc) -> None:
        import sys

        sys.setprofile(self._saved)
