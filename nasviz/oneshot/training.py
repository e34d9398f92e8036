"""Training a supernet: one sampled path per minibatch step.

:func:`train_supernet` is the loop of single-path one-shot training (SPOS, Guo et al. 2020):
at every step a sampler (:mod:`nasviz.oneshot.sampling`) picks a path, the minibatch runs
through it, and the optimizer updates the weights the path used. Weights off the path get
no gradient (``None``), so SGD and Adam leave them, their momentum and their weight decay
alone that step. Minibatches come in an order drawn from a ``torch.Generator`` seeded with
``seed``; the learning rate is set before every step by ``lr_at(step, total)``.
"""

from __future__ import annotations

import math
import time

__all__ = ["train_supernet"]


def train_supernet(supernet, data, sampler, *, epochs: int, batch_size: int, optimizer, lr_at, seed: int) -> dict:
    """Train ``supernet`` on ``data`` (tensors on its device) for ``epochs``, one path of ``sampler`` per step.

    ``optimizer(params)`` makes the optimizer, ``lr_at(step, total)`` gives each step's
    learning rate.

    Returns
    -------
    dict
        ``seconds`` (wall time), ``loss`` and ``accuracy`` (per epoch: the mean training loss
        and the share of training images the sampled paths classified right), ``steps``,
        ``epochs`` and ``failed_epoch`` (-1, or the epoch, from 0, whose loss became NaN or
        infinite: training stops there).

    Examples
    --------
    >>> import torch, nasviz as nv
    >>> from nasviz.oneshot import Supernet, UniformSampler
    >>> _ = torch.manual_seed(0)
    >>> data = nv.data.digits(resolution=4, subset=0.25)
    >>> net = Supernet(nv.CellSpace(), channels=2)
    >>> stats = train_supernet(net, data, UniformSampler(nv.CellSpace(), seed=0), epochs=2, batch_size=64,
    ...                        optimizer=lambda p: torch.optim.SGD(p, lr=0.05), lr_at=lambda s, t: 0.05, seed=0)
    >>> len(stats["loss"]), stats["steps"], stats["failed_epoch"]
    (2, 10, -1)
    """
    import torch

    from ..minibatches import train_epoch

    start = time.perf_counter()
    opt = optimizer(supernet.parameters())
    gen = torch.Generator().manual_seed(int(seed))
    n = len(data.y_train)
    total = epochs * math.ceil(n / batch_size)
    out = {"seconds": 0.0, "loss": [], "accuracy": [], "steps": 0, "epochs": epochs, "failed_epoch": -1}
    for epoch in range(epochs):
        supernet.train()
        stats = train_epoch(lambda xb: supernet(xb, sampler.sample()), opt, data.X_train, data.y_train,
                            batch_size=batch_size, generator=gen, lr_at=lr_at, step=out["steps"], total=total)
        out["steps"] = stats["steps"]
        if not math.isfinite(stats["loss_sum"]):
            out["failed_epoch"] = epoch
            break
        out["loss"].append(stats["loss_sum"] / n)
        out["accuracy"].append(stats["hits"] / n)
    out["seconds"] = time.perf_counter() - start
    return out
