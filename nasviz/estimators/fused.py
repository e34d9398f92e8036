"""Many :class:`~nasviz.CellSpace` networks as one fused network.

K candidates are stacked along the channel axis: activations are shaped
``(B, K*C, H, W)``, candidate ``k`` owning channels ``k*C .. (k+1)*C - 1``
(the layers are in :mod:`nasviz.estimators.fused_layers`).

- every convolution is a grouped convolution (``groups = number of candidates``),
  so each candidate keeps its own weights;
- BatchNorm runs over all ``K*C`` channels, which is per-candidate statistics;
- ReLU and pooling are per channel anyway;
- in a cell, each op is computed only for the candidates that use it: for a source
  node and an op, the channel blocks of every (candidate, outgoing edge) with that op
  are gathered together, the op runs once on that subset (one grouped convolution
  for all of them), and the results are scatter-added into the target nodes' sums
  (``none`` contributes nothing);
- the classifier is a per-candidate batched matmul.

Activations stay in the default (NCHW) layout: channels-last makes the grouped
convolutions faster on CPU but the per-candidate gathers slower, a net loss measured
on the digits networks (``channels_last=True`` is kept for trying it elsewhere).

The fused weights are *copied* from the per-candidate modules that
``CellSpace.build`` made (with the same seeding as one-at-a-time training), and
``write_back`` copies the trained ones back. :mod:`nasviz.estimators.fused_fit`
trains such a network.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ..spaces.cell_model import Cell, CellNetwork, ReLUConvBN, ResNetBasicBlock
from .fused_layers import (
    AvgPool3x3,
    FusedBN,
    FusedConv,
    FusedReLUConvBN,
    GatherGroups,
    Linked,
    as_blocks,
    concat,
    from_blocks,
)

__all__ = ["FusedCellNetwork", "NotFusable", "fusable"]


class NotFusable(Exception):
    """The networks cannot be fused (not CellSpace networks, or an op without a fused form)."""


class _FusedCell(nn.Module):
    """One cell position of K networks.

    Work is grouped by *source node and op*: for source node ``i`` and, say,
    ``nor_conv_3x3``, the channel blocks of every (candidate, outgoing edge) that uses
    that op are gathered together and go through one grouped convolution, whatever edge
    they belong to; the outputs are added in place into the sums of their target nodes,
    which live side by side in one tensor (candidate axis ``(node - 1) * K + k``).
    ``none`` edges are skipped.
    """

    def __init__(self, cells, channels):
        super().__init__()
        k = len(cells)
        self.k, self.c, self.nodes = k, channels, cells[0].nodes
        self.convs = nn.ModuleList()
        self.pools = nn.ModuleList()
        self.plan = []  # per source node: [(kind, module slot, gather buffer or None, dest buffer)]
        for i in range(self.nodes - 1):
            groups = {}
            for e, (a, j) in enumerate(cells[0].edges):
                if a != i:
                    continue
                for cand, cell in enumerate(cells):
                    if not cell.is_none[e]:
                        groups.setdefault(_op_key(cell.ops[e]), []).append((j, cand, e))
            steps = []
            for g, (key, members) in enumerate(groups.items()):
                mods = [cells[cand].ops[e] for _, cand, e in members]
                if key[0] == "conv":
                    self.convs.append(FusedReLUConvBN(mods))
                    slot = len(self.convs) - 1
                elif key[0] == "pool":
                    self.pools.append(AvgPool3x3() if key[1] == "avg3" else mods[0])
                    slot = len(self.pools) - 1
                else:
                    slot = None
                # the sources: rows of the cell input (i = 0), or of the node sums (i > 0; always
                # gathered, so that no op keeps a view of the sums, which later edges still change)
                sources = [cand + (i - 1) * k if i else cand for _, cand, _ in members]
                gather = None
                if i or sources != list(range(k)):
                    gather = f"gather_{i}_{g}"
                    self.register_buffer(gather, torch.tensor(sources, dtype=torch.long), persistent=False)
                dest = f"dest_{i}_{g}"
                self.register_buffer(dest, torch.tensor([(j - 1) * k + cand for j, cand, _ in members],
                                                        dtype=torch.long), persistent=False)
                steps.append((key[0], slot, gather, dest))
            self.plan.append(steps)

    def forward(self, x):
        k, c = self.k, self.c
        x_blocks, axis = as_blocks(x, k, c)
        fmt = torch.channels_last if axis == 3 else torch.contiguous_format
        b, _, h, w = x.shape
        n = self.nodes - 1
        sums = x.new_zeros((b, h, w, n * k, c) if axis == 3 else (b, n * k, c, h, w))
        for i in range(n):
            steps = self.plan[i]
            names = [gather for _, _, gather, _ in steps if gather is not None]
            gathered = iter(GatherGroups.apply(sums if i else x_blocks, axis, *[getattr(self, m) for m in names])
                            if names else ())
            for kind, slot, gather, dest in steps:
                src = x if gather is None else from_blocks(next(gathered), axis)
                if kind == "conv":
                    y = self.convs[slot](src)
                elif kind == "pool":
                    y = self.pools[slot](src)
                else:
                    y = src
                sums.index_add_(axis, getattr(self, dest), as_blocks(y.contiguous(memory_format=fmt), -1, c)[0])
        return from_blocks(sums.narrow(axis, (n - 1) * k, k), axis)


def _op_key(module):
    if isinstance(module, ReLUConvBN):
        conv = module[1]
        return ("conv", conv.kernel_size, conv.stride, conv.padding, conv.in_channels, conv.out_channels)
    if isinstance(module, nn.Identity):
        return ("skip",)
    if isinstance(module, nn.AvgPool2d) and _is_nb201_avg(module):
        return ("pool", "avg3")
    if isinstance(module, (nn.AvgPool2d, nn.MaxPool2d)):
        return ("pool", repr(module))
    raise NotFusable(f"no fused form for op module {type(module).__name__}")


def _is_nb201_avg(m) -> bool:
    def pair(v):
        return tuple(v) if isinstance(v, (tuple, list)) else (v, v)

    return (pair(m.kernel_size) == (3, 3) and pair(m.stride) == (1, 1) and pair(m.padding) == (1, 1)
            and not m.count_include_pad and not m.ceil_mode and m.divisor_override is None)


class _FusedResBlock(nn.Module):
    def __init__(self, blocks):
        super().__init__()
        self.conv_a = FusedReLUConvBN([b.conv_a for b in blocks])
        self.conv_b = FusedReLUConvBN([b.conv_b for b in blocks])
        self.pool = blocks[0].downsample[0]
        self.down = FusedConv([b.downsample[1] for b in blocks])

    def forward(self, x):
        return self.down(self.pool(x)) + self.conv_b(self.conv_a(x))


class FusedCellNetwork(Linked):
    """K :class:`~nasviz.spaces.cell_model.CellNetwork` s as one module; ``forward`` returns (B, K, classes)."""

    def __init__(self, nets, channels_last: bool = False):
        super().__init__()
        self.channels_last = channels_last
        if not fusable(nets):
            raise NotFusable("only CellSpace networks with the same skeleton can be fused")
        k = len(nets)
        self.k = k
        self.__dict__["nets"] = list(nets)
        self.stem_conv = FusedConv([n.stem[0] for n in nets], shared_input=True)
        self.stem_bn = FusedBN([n.stem[1] for n in nets])
        layers = []
        for pos, layer in enumerate(nets[0].cells):
            group = [n.cells[pos] for n in nets]
            if isinstance(layer, Cell):
                layers.append(_FusedCell(group, _cell_channels(nets, pos)))
            else:
                layers.append(_FusedResBlock(group))
        self.layers = nn.ModuleList(layers)
        self.last_bn = FusedBN([n.lastact[0] for n in nets])
        lin = nets[0].classifier
        self.num_classes, self.features = lin.out_features, lin.in_features
        self.weight = nn.Parameter(concat([n.classifier.weight for n in nets]))
        self.bias = nn.Parameter(concat([n.classifier.bias for n in nets]))
        self._link("weight", [n.classifier.weight for n in nets])
        self._link("bias", [n.classifier.bias for n in nets])

    def forward(self, x):
        x = self.stem_conv(x)
        if self.channels_last:  # after the stem: a one-channel input does not carry the layout on
            x = x.contiguous(memory_format=torch.channels_last)
        x = self.stem_bn(x)
        for layer in self.layers:
            x = layer(x)
        x = F.relu(self.last_bn(x))
        b = x.shape[0]
        feats = x.mean((2, 3)).reshape(b, self.k, self.features)
        w = self.weight.reshape(self.k, self.num_classes, self.features)
        return torch.einsum("bkc,knc->bkn", feats, w) + self.bias.reshape(self.k, self.num_classes)

    @torch.no_grad()
    def recalibrate(self, X, batches: int, batch_size: int):
        """Re-estimate every BatchNorm's running statistics from the first ``batches`` minibatches
        of ``X`` (a cumulative average, as ``nn.BatchNorm2d(momentum=None)`` after a reset)."""
        bns = [m for m in self.modules() if isinstance(m, FusedBN)]
        if not batches or not bns:
            return
        for m in bns:
            m.running_mean.zero_()
            m.running_var.fill_(1.0)
        self.train()
        for t in range(batches):
            xb = X[t * batch_size:(t + 1) * batch_size]
            if not len(xb):
                break
            for m in bns:
                m.momentum_now = 1.0 / (t + 1)
            self(xb)
        for m in bns:
            m.momentum_now = None

    def write_back(self, steps: int = 0):
        """Copy the fused (trained) tensors back into the per-candidate networks."""
        for m in self.modules():
            if isinstance(m, Linked):
                Linked.write_back(m)
            if isinstance(m, FusedBN) and steps:
                m.count_steps(steps)


def _cell_channels(nets, pos) -> int:
    """Channels of the cell at ``pos`` (the output channels of the layer before it)."""
    c = nets[0].stem[0].out_channels
    for layer in list(nets[0].cells)[:pos]:
        if isinstance(layer, ResNetBasicBlock):
            c = layer.conv_b[1].out_channels
    return c


def fusable(nets) -> bool:
    """Whether ``nets`` are CellSpace networks with one skeleton and ops that have fused forms."""
    if not nets or not all(type(n) is CellNetwork for n in nets):
        return False
    first = nets[0]
    shape = [(type(layer).__name__, getattr(layer, "nodes", None)) for layer in first.cells]
    for n in nets:
        if [(type(layer).__name__, getattr(layer, "nodes", None)) for layer in n.cells] != shape:
            return False
        if n.stem[0].weight.shape != first.stem[0].weight.shape:
            return False
        if n.classifier.weight.shape != first.classifier.weight.shape:
            return False
        for layer in n.cells:
            if isinstance(layer, Cell):
                try:
                    for op, none in zip(layer.ops, layer.is_none):
                        if not none:
                            _op_key(op)
                except NotFusable:
                    return False
    return True
