"""Bookkeeping shared by the strategies: scores, pending asks, unseen sampling.

Private helpers; the public protocol is :class:`nasviz.strategies.Strategy`.
"""

from __future__ import annotations

import math

import numpy as np

from ..errors import InvalidArchitectureError, InvalidArgumentError
from .base import Strategy, StrategyFinishedError

__all__ = ["MemberSampler", "Pending", "TrackedStrategy", "from_values", "is_member", "score_of"]


def score_of(result) -> float | None:
    """The usable score of a told result, or ``None`` for a failed one.

    ``result`` is a :class:`nasviz.Result`; a plain number is accepted too. A result
    whose status is not ``"ok"`` or whose score is not a finite number is a failure.
    """
    if result is None:
        return None
    if isinstance(result, (int, float, np.integer, np.floating)) and not isinstance(result, bool):
        score = float(result)
    else:
        if not getattr(result, "ok", True):
            return None
        score = getattr(result, "score", None)
        if score is None:
            return None
        try:
            score = float(score)
        except (TypeError, ValueError):
            return None
    return score if math.isfinite(score) else None


class Pending:
    """Asked-but-not-told architectures, with a JSON-serialisable payload per ask.

    The same architecture may be pending several times; tells consume the oldest
    ask of that architecture first (first in, first out).
    """

    def __init__(self):
        self._items: dict = {}  # arch -> list of payloads, oldest first

    def add(self, arch, payload=None) -> None:
        self._items.setdefault(arch, []).append(payload)

    def pop(self, arch):
        """``(True, payload)`` of the oldest pending ask of ``arch``, or ``(False, None)``."""
        payloads = self._items.get(arch)
        if not payloads:
            return False, None
        payload = payloads.pop(0)
        if not payloads:
            del self._items[arch]
        return True, payload

    def latest(self, arch):
        """The payload of the newest pending ask of ``arch`` (``None`` if not pending)."""
        payloads = self._items.get(arch)
        return payloads[-1] if payloads else None

    def __contains__(self, arch) -> bool:
        return arch in self._items

    def __len__(self) -> int:
        return sum(len(p) for p in self._items.values())

    def archs(self) -> list:
        return list(self._items)

    def to_state(self) -> list:
        return [[str(arch), list(payloads)] for arch, payloads in self._items.items()]

    @classmethod
    def from_state(cls, space, items) -> Pending:
        out = cls()
        for text, payloads in items:
            out._items[space.from_string(text)] = list(payloads)
        return out


def is_member(space, arch) -> bool:
    """Whether ``arch`` belongs to ``space``, including the space's own validity rule."""
    if arch not in space:
        return False
    is_valid = getattr(space, "is_valid", None)
    return True if is_valid is None else bool(is_valid(tuple(arch.decisions)))


def from_values(space, values):
    """The architecture for a full decision tuple, or ``None`` if the space rejects it."""
    try:
        arch = space.from_decisions(tuple(values))
    except ValueError:  # nasviz errors are ValueErrors; a user's space may raise plain ones
        return None
    return arch if is_member(space, arch) else None


class MemberSampler:
    """Draws members of a space, optionally avoiding a set of seen ones.

    Random draws are tried first; when they keep hitting seen members, the unseen
    ones are enumerated and one is picked uniformly. Only when every member has
    been seen does ``unseen`` fail (``None``), so strategies never repeat an
    architecture while the space has others.
    """

    def __init__(self, space):
        self.space = space
        self._size = None

    @property
    def size(self) -> int:
        """The space's exact member count: ``space.size`` (a Python int of any size; ``len()``
        overflows beyond ``sys.maxsize``), or ``len(space)`` for a space without ``size``."""
        if self._size is None:
            size = getattr(self.space, "size", None)
            self._size = int(len(self.space) if size is None else size)
        return self._size

    def sample(self, rng):
        return self.space.sample(seed=rng)

    def unseen(self, rng, seen, tries: int = 64):
        """A random member not in ``seen``, or ``None`` when the space has no other."""
        if len(seen) >= self.size:
            return None
        for _ in range(tries):
            arch = self.space.sample(seed=rng)
            if arch not in seen:
                return arch
        rest = [a for a in self.space.enumerate() if a not in seen]
        if not rest:
            return None
        return rest[int(rng.integers(len(rest)))]

    def unseen_or_raise(self, rng, seen, who: str):
        arch = self.unseen(rng, seen)
        if arch is None:
            raise StrategyFinishedError(
                f"{who} has proposed all {self.size} members of {self.space!r}; "
                "check strategy.finished before calling ask()"
            )
        return arch


class TrackedStrategy(Strategy):
    """A :class:`Strategy` that keeps the ask/tell bookkeeping every strategy needs.

    It records each ask (``asked_``, in order, where the strategy avoids repeats) with a small payload -- the parent the
    candidate was derived from and the fidelity to evaluate it at -- keeps the
    pending asks (``pending_``) so that tells may arrive in any order, answers
    :meth:`context` from them, and turns each told result into a score (``None`` for a
    failure) before handing it to ``_on_tell``. It serialises all of that in
    :meth:`state_dict`.
    """

    def __init__(self, space, *, seed=None):
        super().__init__(space, seed=seed)
        self.asked_ = []
        self.pending_ = Pending()
        self._seen = set()
        self._sampler = MemberSampler(space)

    # -- asking --------------------------------------------------------------------
    def _record_ask(self, arch, *, parent=None, fidelity=None, **extra):
        payload = dict(extra)  # JSON-serialisable bookkeeping for the tell
        if parent is not None:
            payload["parent"] = str(parent)
        if fidelity is not None:
            payload["fidelity"] = fidelity
        self.n_asked_ += 1
        if self._keeps_asked():
            self.asked_.append(arch)
            self._seen.add(arch)
        self.pending_.add(arch, payload)
        return arch

    def _keeps_asked(self) -> bool:
        """Whether to keep ``asked_`` (needed to avoid repeats; grows with the run)."""
        return True

    def _unseen(self):
        """A random member never asked before, or ``None`` when every member was asked."""
        return self._sampler.unseen(self.rng_, self._seen)

    def _unseen_or_any(self):
        """A random member never asked before; a repeat only once the space is used up."""
        arch = self._unseen()
        return self._sampler.sample(self.rng_) if arch is None else arch

    # -- telling -------------------------------------------------------------------
    def tell(self, arch, result) -> None:
        """Learn from ``result`` (a :class:`nasviz.Result`, or a plain number) for ``arch``.

        Tells may come in any order. A failed result is never an error: it counts as
        the worst outcome (or is ignored, as each strategy documents). An
        architecture that was not asked is taken as an extra observation where the
        strategy can use one.
        """
        if isinstance(arch, str):
            arch = self.space.from_string(arch)
        elif arch not in self.space:
            raise InvalidArchitectureError(
                f"tell() needs an architecture of {self.space!r} (or its string), got {arch!r}")
        if not (result is None or hasattr(result, "score")
                or isinstance(result, (int, float, np.integer, np.floating)) and not isinstance(result, bool)):
            raise InvalidArgumentError(
                f"tell() needs a result: a nasviz Result (nv.Result(score=...)) or a number, got {result!r}")
        found, payload = self.pending_.pop(arch)
        super().tell(arch, result)
        self._on_tell(arch, score_of(result), payload if found else None)

    def _on_tell(self, arch, score, payload) -> None:
        """Use a told score (``None`` if failed); ``payload`` is ``None`` for unasked archs."""

    def context(self, arch) -> dict:
        """``{"parent": Architecture, "fidelity": int}`` for a pending ask (keys optional)."""
        if isinstance(arch, str):
            arch = self.space.from_string(arch)
        payload = self.pending_.latest(arch) or {}
        out = {}
        if payload.get("parent") is not None:
            out["parent"] = self.space.from_string(payload["parent"])
        if payload.get("fidelity") is not None:
            out["fidelity"] = payload["fidelity"]
        return out

    # -- state ---------------------------------------------------------------------
    def state_dict(self) -> dict:
        state = super().state_dict()
        state["asked"] = [str(a) for a in self.asked_]
        state["pending"] = self.pending_.to_state()
        return state

    def load_state_dict(self, state: dict) -> None:
        super().load_state_dict(state)
        self.asked_ = [self.space.from_string(t) for t in state["asked"]]
        self._seen = set(self.asked_)
        self.pending_ = Pending.from_state(self.space, state["pending"])

    def _archs(self, texts):
        return [self.space.from_string(t) for t in texts]
