"""Training one network: optimizer, learning-rate schedule, epochs, BatchNorm re-estimation.

:func:`fit_network` is the plain loop :class:`~nasviz.estimators.Training` runs for one
candidate: minibatches in an order drawn from a ``torch.Generator`` seeded with
``seed``, the learning rate set before every step (:func:`lr_at`), per epoch the mean
training loss and accuracy, then BatchNorm's running statistics re-estimated
(:func:`recalibrate_bn`) and validation and test accuracy in evaluation mode. A loss
that becomes NaN or infinite stops the run (``failed_epoch``). The fused engine
(:func:`~nasviz.estimators.fused_fit.fit_fused`) takes the same arguments and does the
same for many networks at once.
"""

from __future__ import annotations

import math
from contextlib import contextmanager

__all__ = ["DEFAULT_LR", "OPTIMIZERS", "SCHEDULES", "accuracy", "fit_network", "lr_at", "make_optimizer",
           "non_finite_message", "recalibrate_bn"]

OPTIMIZERS = ("sgd", "adam")
SCHEDULES = ("cosine", "constant")
DEFAULT_LR = {"sgd": 0.05, "adam": 0.005}


def make_optimizer(params, optimizer: str, lr: float, weight_decay: float):
    """SGD with Nesterov momentum 0.9, or Adam, over ``params``."""
    import torch

    if optimizer == "sgd":
        return torch.optim.SGD(params, lr=lr, momentum=0.9, nesterov=True, weight_decay=weight_decay)
    return torch.optim.Adam(params, lr=lr, weight_decay=weight_decay)


def lr_at(step: int, total: int, lr: float, schedule: str) -> float:
    """The learning rate of step ``step`` of ``total``: cosine decay from ``lr`` to zero, or constant."""
    if schedule == "constant" or total <= 0:
        return lr
    return lr * 0.5 * (1.0 + math.cos(math.pi * step / total))


def non_finite_message(epoch: int, epochs: int) -> str:
    return f"loss became non-finite (NaN or inf) during epoch {epoch + 1} of {epochs}; try a smaller lr"


def fit_network(model, data, *, epochs, batch_size, optimizer, lr_at, seed, recalibrate=0) -> dict:
    """Train ``model`` on ``data`` (tensors on the model's device); curves as lists, ``failed_epoch`` -1
    if the loss stayed finite.

    ``optimizer(params)`` makes the optimizer, ``lr_at(step, total)`` gives the learning rate
    of each step; BatchNorm statistics are re-estimated from ``recalibrate`` training
    minibatches before each evaluation (0: not). A network with dropout draws it from
    torch's global generator, seeded with ``seed`` for the run and restored afterwards.
    """
    import torch

    opt = optimizer(model.parameters())
    gen = torch.Generator().manual_seed(int(seed))
    if not _uses_global_rng(model):
        return _fit_loop(model, data, epochs, opt, gen, batch_size, lr_at, recalibrate)
    with _seeded_global_rng(int(seed), data.X_train.device):  # dropout draws from torch's global generator
        return _fit_loop(model, data, epochs, opt, gen, batch_size, lr_at, recalibrate)


def _fit_loop(model, data, epochs, opt, gen, batch_size, lr_at, recalibrate) -> dict:
    from ..minibatches import train_epoch

    n = len(data.y_train)
    total = epochs * math.ceil(n / batch_size)
    out = {"val": [], "test": [], "loss": [], "train": [], "failed_epoch": -1}
    step = 0
    for epoch in range(epochs):
        model.train()
        stats = train_epoch(model, opt, data.X_train, data.y_train, batch_size=batch_size, generator=gen,
                            lr_at=lr_at, step=step, total=total)
        step = stats["steps"]
        if not math.isfinite(stats["loss_sum"]):
            out["failed_epoch"] = epoch
            return out
        out["loss"].append(stats["loss_sum"] / n)
        out["train"].append(stats["hits"] / n)
        recalibrate_bn(model, data.X_train, recalibrate, batch_size)
        out["val"].append(accuracy(model, data.X_val, data.y_val))
        out["test"].append(accuracy(model, data.X_test, data.y_test))
    if not epochs:  # nothing to train (an inherited network judged as it is)
        recalibrate_bn(model, data.X_train, recalibrate, batch_size)
    out["val_final"] = out["val"][-1] if epochs else accuracy(model, data.X_val, data.y_val)
    out["test_final"] = out["test"][-1] if epochs else accuracy(model, data.X_test, data.y_test)
    return out


def recalibrate_bn(model, X, batches: int, batch_size: int):
    """Re-estimate the running statistics of ``model``'s BatchNorm layers from the first ``batches``
    minibatches of ``X``: reset, then a cumulative average (``momentum=None``), no gradients."""
    import torch
    from torch.nn.modules.batchnorm import _BatchNorm

    bns = [m for m in model.modules() if isinstance(m, _BatchNorm) and m.track_running_stats]
    if not batches or not bns:
        return
    momenta = [m.momentum for m in bns]
    for m in bns:
        m.reset_running_stats()
        m.momentum = None
    model.train()
    with torch.no_grad():
        for t in range(batches):
            xb = X[t * batch_size:(t + 1) * batch_size]
            if not len(xb):
                break
            model(xb)
    for m, momentum in zip(bns, momenta):
        m.momentum = momentum


def accuracy(model, X, y, eval_batch: int = 512) -> float:
    """Accuracy of ``model`` in evaluation mode on (X, y), ``eval_batch`` inputs at a time."""
    import torch

    model.eval()
    correct = 0
    with torch.no_grad():
        for s in range(0, len(y), eval_batch):
            correct += int((model(X[s:s + eval_batch]).argmax(-1) == y[s:s + eval_batch]).sum())
    return correct / max(1, len(y))


def _uses_global_rng(model) -> bool:
    """Whether training ``model`` draws random numbers (dropout) from torch's global generator."""
    from torch.nn.modules.dropout import _DropoutNd

    return any(isinstance(m, _DropoutNd) for m in model.modules())


@contextmanager
def _seeded_global_rng(seed: int, device):
    """Run with torch's global generators seeded by ``seed``; their previous states come back afterwards."""
    import torch

    devices = [device.index or 0] if device.type == "cuda" else []
    with torch.random.fork_rng(devices=devices):
        torch.manual_seed(seed)
        yield
