"""One epoch of minibatch training: the step that every nasviz training loop shares.

:func:`train_epoch` runs one pass over the training images in an order drawn from a
``torch.Generator``: per minibatch the learning rate is set (``lr_at(step, total)``),
``forward(xb)`` gives the logits, and the optimizer takes one step on the mean
cross-entropy. :func:`~nasviz.estimators.fit.fit_network` (one network) and
:func:`~nasviz.oneshot.train_supernet` (one sampled path of a supernet per step) both
train with it; the fused engine (:mod:`nasviz.estimators.fused_fit`), whose loss is a
sum over candidates, has its own. torch is imported inside the function.

Examples
--------
>>> import torch, nasviz as nv
>>> from nasviz.minibatches import train_epoch
>>> _ = torch.manual_seed(0)
>>> data = nv.data.digits(resolution=4, subset=0.25)
>>> model = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(16, 10))
>>> opt = torch.optim.SGD(model.parameters(), lr=0.1)
>>> stats = train_epoch(model, opt, data.X_train, data.y_train, batch_size=64,
...                     generator=torch.Generator().manual_seed(0), lr_at=lambda s, t: 0.1, step=0, total=5)
>>> stats["steps"], stats["loss_sum"] > 0
(5, True)
"""

from __future__ import annotations

import math

__all__ = ["train_epoch"]


def train_epoch(forward, opt, X, y, *, batch_size: int, generator, lr_at, step: int, total: int) -> dict:
    """One epoch of SGD steps over ``(X, y)``; returns ``loss_sum`` and ``hits`` (Python floats: the summed
    minibatch losses weighted by their sizes, and the count of training images classified right) and
    ``steps`` (the step counter after the epoch: ``step`` plus the minibatches taken).

    ``forward(xb)`` returns logits (B, classes) and is called once per minibatch, so it may choose a
    supernet path per step; ``lr_at(step, total)`` is the learning rate of each step. Gradients are
    cleared with ``set_to_none``: parameters a step did not use keep their optimizer state untouched.
    The order is ``torch.randperm(len(y), generator=generator)``, drawn on the CPU.
    """
    import torch
    import torch.nn.functional as F

    n = len(y)
    device = X.device
    perm = torch.randperm(n, generator=generator).to(device)
    loss_sum = torch.zeros((), dtype=torch.float64, device=device)
    hits = torch.zeros((), dtype=torch.float64, device=device)
    for s in range(math.ceil(n / batch_size)):
        idx = perm[s * batch_size:(s + 1) * batch_size]
        xb, yb = X[idx], y[idx]
        for group in opt.param_groups:
            group["lr"] = lr_at(step, total)
        logits = forward(xb)
        loss = F.cross_entropy(logits, yb)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        loss_sum += loss.detach().double() * len(yb)
        hits += (logits.detach().argmax(-1) == yb).sum().double()
        step += 1
    return {"loss_sum": float(loss_sum), "hits": float(hits), "steps": step}
