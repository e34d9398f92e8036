"""PyTorch modules for :class:`~nasviz.spaces.CellSpace` (imported only by ``build`` and the batched engine)."""

from __future__ import annotations

import torch
from torch import nn

from ..errors import UnknownOpError

__all__ = ["CellNetwork", "Cell", "OPS", "ReLUConvBN", "ResNetBasicBlock"]


class ReLUConvBN(nn.Sequential):
    """NAS-Bench-201's ``nor_conv``: ReLU -> Conv (no bias) -> BatchNorm."""

    def __init__(self, c_in: int, c_out: int, kernel: int, stride: int = 1):
        super().__init__(
            nn.ReLU(inplace=False),
            nn.Conv2d(c_in, c_out, kernel, stride=stride, padding=kernel // 2, bias=False),
            nn.BatchNorm2d(c_out),
        )


class Zero(nn.Module):
    def forward(self, x):
        return x.mul(0.0)


# op name -> factory(channels) -> module that keeps shape
OPS = {
    "none": lambda c: Zero(),
    "skip_connect": lambda c: nn.Identity(),
    "nor_conv_1x1": lambda c: ReLUConvBN(c, c, 1),
    "nor_conv_3x3": lambda c: ReLUConvBN(c, c, 3),
    "avg_pool_3x3": lambda c: nn.AvgPool2d(3, stride=1, padding=1, count_include_pad=False),
    "max_pool_3x3": lambda c: nn.MaxPool2d(3, stride=1, padding=1),
    "nor_conv_5x5": lambda c: ReLUConvBN(c, c, 5),
}


class Cell(nn.Module):
    """A NAS-Bench-201 cell: node j sums ``op_ij(node_i)`` over i < j; ``none`` edges are skipped."""

    def __init__(self, arch, channels: int):
        super().__init__()
        self.edges = list(arch.edges)
        self.nodes = arch.nodes
        for op in arch.ops:
            if op not in OPS:
                raise UnknownOpError(f"no PyTorch module for op {op!r}; known ops: {', '.join(map(repr, OPS))}")
        self.ops = nn.ModuleList(OPS[op](channels) for op in arch.ops)
        self.is_none = [op == "none" for op in arch.ops]

    def forward(self, x):
        states = [x]
        k = 0
        for j in range(1, self.nodes):
            total = None
            for i in range(j):
                if not self.is_none[k]:
                    y = self.ops[k](states[i])
                    total = y if total is None else total + y
                k += 1
            states.append(total if total is not None else torch.zeros_like(x))
        return states[-1]


class ResNetBasicBlock(nn.Module):
    """NAS-Bench-201's reduction block: two ReLU-Conv-BN (first with stride 2) plus an
    average-pool + 1x1-conv shortcut."""

    def __init__(self, c_in: int, c_out: int, stride: int = 2):
        super().__init__()
        self.conv_a = ReLUConvBN(c_in, c_out, 3, stride)
        self.conv_b = ReLUConvBN(c_out, c_out, 3, 1)
        self.downsample = nn.Sequential(
            nn.AvgPool2d(kernel_size=2, stride=2, padding=0, ceil_mode=True),  # odd sizes: match the strided conv
            nn.Conv2d(c_in, c_out, 1, bias=False),
        )

    def forward(self, x):
        return self.downsample(x) + self.conv_b(self.conv_a(x))


class CellNetwork(nn.Module):
    """NAS-Bench-201's macro skeleton around a cell: one module per block of ``blocks``
    (what :meth:`CellSpace.blocks <nasviz.spaces.CellSpace.blocks>` lists), in order."""

    def __init__(self, arch, blocks):
        super().__init__()
        self.arch = arch
        stem, *body, head = blocks
        c_in, c = stem.in_shape[0], stem.out_shape[0]
        self.stem = nn.Sequential(nn.Conv2d(c_in, c, 3, padding=1, bias=False), nn.BatchNorm2d(c))
        self.cells = nn.Sequential(*(_body_module(arch, block) for block in body))
        c = head.in_shape[0]
        self.lastact = nn.Sequential(nn.BatchNorm2d(c), nn.ReLU(inplace=False))
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Linear(c, head.out_shape[0])

    def forward(self, x):
        x = self.lastact(self.cells(self.stem(x)))
        return self.classifier(torch.flatten(self.pool(x), 1))


def _body_module(arch, block) -> nn.Module:
    """The module of a ``"cell"`` or ``"reduction"`` block."""
    if block.kind == "cell":
        return Cell(arch, block.in_shape[0])
    if block.kind == "reduction":
        return ResNetBasicBlock(block.in_shape[0], block.out_shape[0], stride=2)
    raise ValueError(f"a CellSpace network has no {block.kind!r} block between its stem and head")
