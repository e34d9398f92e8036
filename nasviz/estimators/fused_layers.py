"""The layers of a fused network: K candidates' modules as one module each.

K candidates are stacked along the channel axis: activations are shaped
``(B, K*C, H, W)``, candidate ``k`` owning channels ``k*C .. (k+1)*C - 1``
(:func:`as_blocks` gives a view with a candidate axis, :func:`from_blocks` undoes it).

- a :class:`FusedConv` is a grouped convolution (``groups`` = number of candidates),
  so each candidate keeps its own weights;
- a :class:`FusedBN` runs over all ``K*C`` channels, which is per-candidate statistics;
- a :class:`Linked` module's tensors are the per-candidate tensors concatenated along
  dim 0, and ``write_back`` copies them back into the candidates' own modules.

:mod:`nasviz.estimators.fused` assembles them into a :class:`~nasviz.estimators.fused.FusedCellNetwork`.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

__all__ = ["AvgPool3x3", "FusedBN", "FusedConv", "FusedReLUConvBN", "GatherGroups", "Linked", "as_blocks",
           "concat", "from_blocks"]


def concat(tensors):
    """The tensors, detached, concatenated along dim 0 (a copy)."""
    return torch.cat([t.detach() for t in tensors], 0).clone()


class Linked(nn.Module):
    """A fused module whose tensors are the per-candidate tensors concatenated along dim 0."""

    def _link(self, name, sources):
        self.__dict__.setdefault("_links", []).append((name, list(sources)))

    def write_back(self):
        with torch.no_grad():
            for name, sources in self.__dict__.get("_links", []):
                fused = getattr(self, name).detach().to("cpu")
                for src, part in zip(sources, fused.split([s.shape[0] for s in sources], 0)):
                    src.copy_(part.reshape(src.shape))


class FusedBN(Linked):
    def __init__(self, bns):
        super().__init__()
        self.weight = nn.Parameter(concat([b.weight for b in bns]))
        self.bias = nn.Parameter(concat([b.bias for b in bns]))
        self.register_buffer("running_mean", concat([b.running_mean for b in bns]))
        self.register_buffer("running_var", concat([b.running_var for b in bns]))
        self.momentum, self.eps = bns[0].momentum, bns[0].eps
        self.momentum_now = None  # set while re-estimating the statistics (a cumulative average)
        for name, attr in (("weight", "weight"), ("bias", "bias"), ("running_mean", "running_mean"),
                           ("running_var", "running_var")):
            self._link(name, [getattr(b, attr) for b in bns])
        self.__dict__["_bns"] = list(bns)

    def forward(self, x):
        momentum = self.momentum if self.momentum_now is None else self.momentum_now
        return F.batch_norm(x, self.running_mean, self.running_var, self.weight, self.bias, self.training,
                            momentum, self.eps)

    def count_steps(self, steps: int):
        for b in self.__dict__["_bns"]:
            b.num_batches_tracked += steps


class FusedConv(Linked):
    """A grouped convolution: one group per candidate (``shared_input``: one input for all)."""

    def __init__(self, convs, shared_input=False):
        super().__init__()
        c = convs[0]
        self.weight = nn.Parameter(concat([m.weight for m in convs]))
        self._link("weight", [m.weight for m in convs])
        self.stride, self.padding = c.stride, c.padding
        self.groups = 1 if shared_input else len(convs)

    def forward(self, x):
        return F.conv2d(x, self.weight, None, self.stride, self.padding, 1, self.groups)


class FusedReLUConvBN(nn.Module):
    def __init__(self, blocks):
        super().__init__()
        self.conv = FusedConv([b[1] for b in blocks])
        self.bn = FusedBN([b[2] for b in blocks])

    def forward(self, x, relu=True):
        return self.bn(self.conv(F.relu(x) if relu else x))


def as_blocks(x, k, c):
    """A view of ``x`` (B, K*C, H, W) with a candidate axis, and that axis: (B, K, C, H, W) or,
    for channels-last tensors, (B, H, W, K, C)."""
    b, _, h, w = x.shape
    if not x.is_contiguous() and x.is_contiguous(memory_format=torch.channels_last):
        return x.permute(0, 2, 3, 1).reshape(b, h, w, k, c), 3
    return x.reshape(b, k, c, h, w), 1


def from_blocks(blocks, axis):
    """The inverse of :func:`as_blocks`: back to (B, K*C, H, W)."""
    if axis == 3:
        b, h, w, k, c = blocks.shape
        return blocks.reshape(b, h, w, k * c).permute(0, 3, 1, 2)
    b, k, c, h, w = blocks.shape
    return blocks.reshape(b, k * c, h, w)


class GatherGroups(torch.autograd.Function):
    """Several index_selects of one tensor along one axis; the backward pass scatters all
    their gradients into one zero tensor (instead of one zero tensor per gather, summed)."""

    @staticmethod
    def forward(ctx, x, axis, *indices):
        ctx.axis, ctx.shape = axis, x.shape
        ctx.save_for_backward(*indices)
        return tuple(x.index_select(axis, idx) for idx in indices)

    @staticmethod
    def backward(ctx, *grads):
        indices = ctx.saved_tensors
        grad = None
        for idx, g in zip(indices, grads):
            if g is not None:
                if grad is None:
                    grad = g.new_zeros(ctx.shape)
                grad.index_add_(ctx.axis, idx, g)
        return (grad, None) + (None,) * len(indices)


class AvgPool3x3(nn.Module):
    """3x3, stride 1, padding 1 average pooling without the padding (as NAS-Bench-201's
    ``avg_pool_3x3``), computed as a depthwise convolution with ones divided by the count
    of real pixels: the same values as ``nn.AvgPool2d``, faster on CPU."""

    def forward(self, x):
        ch, (h, w) = x.shape[1], x.shape[2:]
        cache = self.__dict__.setdefault("_cache", {})
        key = (ch, h, w, x.device, x.dtype)
        if key not in cache:
            counts = F.conv2d(x.new_ones(1, 1, h, w), x.new_ones(1, 1, 3, 3), padding=1)
            cache[key] = (x.new_ones(ch, 1, 3, 3), 1.0 / counts)
        ones, inverse = cache[key]
        return F.conv2d(x, ones, None, 1, 1, 1, ch) * inverse
