"""``synflow``: synaptic flow, data-free (imports torch)."""

from __future__ import annotations

import types

import torch
from torch import nn

from ._network import weight_layers

__all__ = ["synflow"]


def _identity_forward(self, x):
    return x


def synflow(model, input_shape, device) -> tuple[float, bool]:
    """Synaptic flow, as the reference computes it (changes ``model`` in place).

    Batch normalisation bypassed (the reference's ``bn=False`` copy), every floating-point
    state tensor made absolute, double precision, an all-ones input; the score is the sum over
    ``Conv2d``/``Linear`` weights of |theta * dR/dtheta|, R the sum of the outputs. Zero flow,
    the floor, is flagged.
    """
    for m in model.modules():
        if isinstance(m, nn.modules.batchnorm._BatchNorm):
            m.forward = types.MethodType(_identity_forward, m)
    model.double()
    with torch.no_grad():
        for tensor in model.state_dict().values():
            if tensor.is_floating_point():
                tensor.abs_()
    weights = [m.weight for m in weight_layers(model)]
    x = torch.ones((1, *input_shape), dtype=torch.float64, device=device)
    out = model(x)
    total = out.sum()
    if not total.requires_grad:
        return 0.0, True
    grads = torch.autograd.grad(total, weights, allow_unused=True)
    value = float(sum((w.detach() * g).abs().sum() for w, g in zip(weights, grads) if g is not None))
    return value, value == 0.0
