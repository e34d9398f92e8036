"""One candidate in training: its network built from the seed, its size, and its Result.

:class:`~nasviz.estimators.Training` trains each candidate, alone or in a fused chunk,
from a :class:`Candidate`: the network that :func:`build_seeded` makes (the same
weights for the same seed, whichever thread builds it), measured and given its
parent's weights by :func:`prepare`, and the curves of its training turned into a
:class:`~nasviz.estimators.Result` by :func:`to_result`.
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass

from .base import Result
from .fit import non_finite_message

__all__ = ["Candidate", "build_seeded", "prepare", "to_result"]

_BUILD_LOCK = threading.Lock()  # seeding builds through torch's global generator (forked, then restored)


@dataclass
class Candidate:
    """A candidate's place in the call, its architecture and parent weights; then its network and size."""

    position: int
    arch: object
    parent: object = None  # ParentWeights or None
    model: object = None
    inherited_tensors: int = 0
    params: int = 0
    flops: int = 0

    def fresh(self) -> Candidate:
        """The same candidate before :func:`prepare` (no network yet)."""
        return Candidate(self.position, self.arch, self.parent)


def build_seeded(space, arch, *, seed: int, num_classes: int, in_channels: int, **sizes):
    """``space.build(arch, ...)`` on CPU, initialised from ``seed`` (torch's global generator forked and
    restored); each of ``sizes`` (``channels``, ``cells_per_stage``) is passed only where ``build`` names it."""
    import torch

    kwargs = {name: value for name, value in sizes.items() if _accepts(space.build, name)}
    with _BUILD_LOCK, torch.random.fork_rng(devices=[]):
        torch.manual_seed(int(seed))
        return space.build(arch, num_classes=int(num_classes), in_channels=int(in_channels), **kwargs)


def prepare(cand: Candidate, model, input_shape) -> Candidate:
    """Give ``cand`` its network ``model``: count its parameters and FLOPs (one input of ``input_shape``),
    then copy its parent's weights into it where units match."""
    from ..model_stats import count_flops, count_params
    from .inheritance import inherit

    cand.params = count_params(model)
    cand.flops = count_flops(model, tuple(input_shape))
    if cand.parent is not None:
        cand.inherited_tensors = inherit(model, cand.parent)
    cand.model = model
    return cand


def to_result(cand: Candidate, curves: dict, *, epochs: int, cost: float, batched: bool, device: str) -> Result:
    """The Result of a trained candidate from its curves (as :func:`~nasviz.estimators.fit.fit_network`
    returns them); failed if its loss became non-finite."""
    metrics = {"params": cand.params, "flops": cand.flops, "epochs": epochs,
               "inherited": cand.parent is not None, "inherited_tensors": cand.inherited_tensors,
               "batched": batched, "device": device}
    if curves["failed_epoch"] >= 0:
        return Result.failed(non_finite_message(curves["failed_epoch"], epochs), cost=cost, metrics=metrics)
    metrics.update(val_acc=float(curves["val_final"]), test_acc=float(curves["test_final"]),
                   val_curve=[float(v) for v in curves["val"]], test_curve=[float(v) for v in curves["test"]],
                   train_curve=[float(v) for v in curves["train"]], loss_curve=[float(v) for v in curves["loss"]],
                   train_loss=float(curves["loss"][-1]) if curves["loss"] else math.nan)
    return Result(score=float(curves["val_final"]), cost=cost, metrics=metrics)


def _accepts(func, name: str) -> bool:
    """Whether ``func`` names the keyword ``name`` in its signature (``**kwargs`` alone does not count)."""
    import inspect

    try:
        return name in inspect.signature(func).parameters
    except (TypeError, ValueError):
        return False
