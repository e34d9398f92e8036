"""Proxies from the gradients of the cross-entropy loss (imports torch).

``snip``, ``grad_norm``, ``fisher`` and ``grasp`` read the gradients of one minibatch's loss
(Abdelfattah et al., ICLR 2021, and their reference code); ``zico`` (Li et al., ICLR 2023)
compares the gradients of two minibatches, so it makes passes of its own.
"""

from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F

from ..errors import ShapeError
from ._network import is_constant, weight_layers

__all__ = ["ZICO_SPLITS", "gradient_scores", "zico"]

#: minibatches ZiCo compares: the minibatch's two halves
ZICO_SPLITS = 2


def gradient_scores(names, weights, gw, acts, ga) -> dict:
    """snip, grad_norm, fisher and grasp from the loss's gradients (``gw`` of weights, ``ga`` of activations)."""
    values = {}
    if "snip" in names:
        values["snip"] = float(sum((w.detach() * g.detach()).abs().sum().double() for w, g in zip(weights, gw)
                                   if g is not None))
    if "grad_norm" in names:
        values["grad_norm"] = float(sum(g.detach().double().norm() for g in gw if g is not None))
    if "fisher" in names:
        values["fisher"] = _fisher(acts, ga)
    if "grasp" in names:
        values["grasp"] = _grasp(weights, gw)
    return values


def _fisher(acts, ga) -> float:
    total = 0.0
    for (layer, act), g in zip(acts, ga):
        if g is None:
            continue
        prod = (act.detach() * g.detach()).double()
        g_nk = prod.sum(dim=tuple(range(2, prod.dim()))) if prod.dim() > 2 else prod
        per_channel = 0.5 * g_nk.pow(2).mean(0)
        total += float(per_channel.sum()) * int(np.prod(layer.weight.shape[1:]))
    return total


def _grasp(weights, gw) -> float:
    z = None
    for g in gw:
        if g is not None and g.requires_grad:
            term = (g.detach() * g).sum()
            z = term if z is None else z + term
    if z is None:
        return 0.0
    hg = torch.autograd.grad(z, weights, allow_unused=True)
    return float(sum((-w.detach() * h).sum().double() for w, h in zip(weights, hg) if h is not None))


def zico(model, inputs, targets, replay) -> tuple[float, bool, bool]:
    """ZiCo of ``model`` and whether its output is constant: (value, degenerate, constant).

    The minibatch is split into :data:`ZICO_SPLITS` halves (``[0, n//2)`` and ``[n//2, n)``);
    each half gets its own forward pass (training mode) and the gradient of its mean
    cross-entropy loss. Per ``Conv2d``/``Linear`` weight, mean |g| / std(g) over the halves
    (population std); weights whose std is exactly 0 are left out, and a layer whose sum is 0
    adds nothing, as in the reference code; otherwise the layer adds log(sum). With two halves
    each ratio is >= 1 ((|a| + |b|) / |a - b|), so every term is >= 0 and 0 is the floor.
    """
    weights = [m.weight for m in weight_layers(model)]
    n = inputs.shape[0]
    bounds = [(k * n // ZICO_SPLITS, (k + 1) * n // ZICO_SPLITS) for k in range(ZICO_SPLITS)]
    per_split, outs = [], []
    replay()  # then the halves draw one after the other, as two minibatches would
    for start, stop in bounds:
        try:
            out = model(inputs[start:stop])
        except ValueError as err:  # batch normalisation of 1 x 1 maps needs more than one image
            raise ShapeError(f"zico splits the minibatch of {n} images in two halves of {stop - start}, too few for "
                             f"this network's batch normalisation ({err}); use a larger batch_size") from err
        outs.append(out.detach())
        loss = F.cross_entropy(out, targets[start:stop])
        if loss.requires_grad:
            grads = torch.autograd.grad(loss, weights, allow_unused=True)
        else:  # nothing trainable reaches the loss
            grads = [None] * len(weights)
        per_split.append([None if g is None else g.detach().reshape(-1).double() for g in grads])
    total = 0.0
    for layer_grads in zip(*per_split):
        if any(g is None for g in layer_grads):
            continue
        G = torch.stack(layer_grads)
        std = G.std(dim=0, unbiased=False)
        keep = std != 0
        ratio_sum = float((G.abs().mean(dim=0)[keep] / std[keep]).sum())
        if ratio_sum > 0:
            total += math.log(ratio_sum)
    constant = is_constant(torch.cat(outs))
    return total, total == 0.0, constant
