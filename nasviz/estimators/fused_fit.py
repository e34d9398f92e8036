"""Training a :class:`~nasviz.estimators.fused.FusedCellNetwork`: K candidates, one loop.

Every candidate sees the same minibatches, and the loss is the sum over candidates of
each candidate's mean cross-entropy (:func:`candidate_losses`), so each candidate's
gradient equals the one it would get alone; SGD (momentum, weight decay) and Adam act
elementwise, so one optimizer over the fused parameters equals one optimizer per
candidate. Results match one-at-a-time training (:mod:`nasviz.estimators.fit`) up to
floating-point rounding (grouped and plain convolutions sum in different orders).

A candidate whose loss becomes NaN or infinite is masked out of the loss from
then on (``torch.where``, so its NaNs never reach the others' gradients) and
reported as failed; the others train on undisturbed.

:func:`activation_bytes` estimates one candidate's activation memory, from which
:class:`~nasviz.estimators.Training` sizes its fused chunks.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from ..spaces import CellSpace
from .fused import FusedCellNetwork

__all__ = ["activation_bytes", "candidate_curves", "candidate_losses", "fit_fused", "fit_together"]


def candidate_losses(logits, y):
    """Mean cross-entropy of each candidate: logits (B, K, classes), labels (B,) -> (K,)."""
    b, k, _ = logits.shape
    return F.cross_entropy(logits.permute(0, 2, 1), y[:, None].expand(b, k), reduction="none").mean(0)


def activation_bytes(input_shape, *, channels: int, cells_per_stage: int, batch_size: int, nodes: int = 4) -> int:
    """A rough estimate of the activation memory one candidate needs for one training step.

    Read from the network's skeleton (:meth:`CellSpace.blocks <nasviz.spaces.CellSpace.blocks>`):
    each cell keeps ``nodes + 4 * edges`` feature maps of its size (node sums, and per
    edge the ReLU, gather, conv and BN outputs), each stage about 10 more (stem or
    reduction, BatchNorms, the head); float32, plus half again for the allocator.
    """
    c_in, h, w = input_shape
    space = CellSpace(nodes=nodes)
    blocks = space.blocks(in_channels=c_in, channels=channels, cells_per_stage=cells_per_stage, input_size=(h, w))
    per_cell = nodes + 4 * len(space.edges)
    stage_maps = {b.stage: math.prod(b.out_shape) for b in blocks if b.kind == "cell"}
    cell_floats = sum(per_cell * math.prod(b.out_shape) for b in blocks if b.kind == "cell")
    floats = batch_size * (cell_floats + 10 * sum(stage_maps.values()))
    return int(4 * floats * 1.5)


@torch.no_grad()
def _accuracy(net, X, y, eval_batch=512):
    correct = None
    for s in range(0, len(y), eval_batch):
        logits = net(X[s:s + eval_batch])
        hit = (logits.argmax(-1) == y[s:s + eval_batch, None]).sum(0)
        correct = hit if correct is None else correct + hit
    return correct.double() / len(y)


def fit_fused(net, data, *, epochs, batch_size, optimizer, lr_at, seed, recalibrate=0):
    """Train a fused network; return per-candidate curves (tensors shaped (epochs, K)) and failures.

    ``optimizer(params)`` makes the optimizer, ``lr_at(step, total)`` gives the learning
    rate of each step. The minibatch order comes from a ``torch.Generator`` seeded with
    ``seed`` (the same order as one-at-a-time training). Before each evaluation, BatchNorm
    statistics are re-estimated from ``recalibrate`` training minibatches (0: not).
    """
    device = data.X_train.device
    eval_batch = 2 * batch_size  # no gradients kept: about a third of a training step's memory
    k = net.k
    n = len(data.y_train)
    steps = math.ceil(n / batch_size)
    total_steps = epochs * steps
    opt = optimizer(net.parameters())
    gen = torch.Generator().manual_seed(int(seed))
    alive = torch.ones(k, dtype=torch.bool, device=device)
    failed_epoch = [-1] * k
    curves = {"val": [], "test": [], "loss": [], "train": []}
    step = 0
    for epoch in range(epochs):
        net.train()
        perm = torch.randperm(n, generator=gen).to(device)
        loss_sum = torch.zeros(k, device=device, dtype=torch.float64)
        hits = torch.zeros(k, device=device, dtype=torch.float64)
        for s in range(steps):
            idx = perm[s * batch_size:(s + 1) * batch_size]
            xb, yb = data.X_train[idx], data.y_train[idx]
            for group in opt.param_groups:
                group["lr"] = lr_at(step, total_steps)
            logits = net(xb)
            losses = candidate_losses(logits, yb)
            alive = alive & torch.isfinite(losses.detach())
            masked = torch.where(alive, losses, torch.zeros_like(losses))
            opt.zero_grad(set_to_none=True)
            masked.sum().backward()
            opt.step()
            loss_sum += masked.detach().double() * len(yb)
            hits += (logits.detach().argmax(-1) == yb[:, None]).sum(0).double()
            step += 1
        net.recalibrate(data.X_train, recalibrate, batch_size)
        net.eval()
        alive_now = alive.tolist()
        for c in range(k):
            if not alive_now[c] and failed_epoch[c] < 0:
                failed_epoch[c] = epoch
        curves["val"].append(_accuracy(net, data.X_val, data.y_val, eval_batch))
        curves["test"].append(_accuracy(net, data.X_test, data.y_test, eval_batch))
        curves["loss"].append(loss_sum / n)
        curves["train"].append(hits / n)
    out = {key: torch.stack(v).cpu() if v else torch.zeros(0, k, dtype=torch.float64) for key, v in curves.items()}
    if epochs:
        out["val_final"], out["test_final"] = out["val"][-1], out["test"][-1]
    else:  # nothing to train (an inherited network judged as it is)
        net.recalibrate(data.X_train, recalibrate, batch_size)
        net.eval()
        out["val_final"] = _accuracy(net, data.X_val, data.y_val, eval_batch).cpu()
        out["test_final"] = _accuracy(net, data.X_test, data.y_test, eval_batch).cpu()
    out["failed_epoch"] = failed_epoch
    out["steps"] = total_steps
    return out


def candidate_curves(curves: dict, k: int) -> dict:
    """Candidate ``k``'s part of :func:`fit_fused`'s curves, as :func:`~nasviz.estimators.fit.fit_network`
    returns them for one network (lists, ``val_final``, ``test_final``, ``failed_epoch``)."""
    mine = {key: curves[key][:, k].tolist() for key in ("val", "test", "loss", "train")}
    mine.update(val_final=float(curves["val_final"][k]), test_final=float(curves["test_final"][k]),
                failed_epoch=curves["failed_epoch"][k])
    return mine


def fit_together(models, data, device, *, epochs, write_back=False, **settings) -> list[dict]:
    """Train CellSpace ``models`` (on CPU) as one :class:`~nasviz.estimators.fused.FusedCellNetwork` on
    ``device`` with :func:`fit_fused` (``settings``: its keyword arguments); each model's curves, in order.
    ``write_back`` copies the trained weights and BatchNorm statistics back into ``models``."""
    net = FusedCellNetwork(models).to(device)
    curves = fit_fused(net, data, epochs=epochs, **settings)
    if write_back:
        net.write_back(curves["steps"])
    del net
    return [candidate_curves(curves, k) for k in range(len(models))]
