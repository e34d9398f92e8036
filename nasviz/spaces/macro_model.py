"""PyTorch modules for :class:`~nasviz.spaces.MacroSpace` (imported only by ``build``)."""

from __future__ import annotations

import torch
from torch import nn

from ..errors import UnknownNameError, UnknownOpError

__all__ = ["ACTIVATION_MODULES", "MacroNetwork", "make_layer"]

ACTIVATION_MODULES = {
    "relu": nn.ReLU,
    "relu6": nn.ReLU6,
    "gelu": nn.GELU,
    "silu": nn.SiLU,
    "elu": nn.ELU,
    "leaky_relu": nn.LeakyReLU,
    "tanh": nn.Tanh,
    "sigmoid": nn.Sigmoid,
}


def _activation(name: str) -> nn.Module:
    if name not in ACTIVATION_MODULES:
        raise UnknownNameError(f"unknown activation {name!r}; accepted: {', '.join(map(repr, ACTIVATION_MODULES))}")
    return ACTIVATION_MODULES[name]()


def make_layer(layer, c_in: int) -> tuple[nn.Module, int]:
    """The module for one :class:`~nasviz.spaces.macro.MacroLayer` and its output channels.

    Every kernel pads by ``(kernel - 1) // 2``, matching the shapes the space computes.
    """
    op = layer.op
    if op == "identity":
        return nn.Identity(), c_in
    pad = (layer.kernel - 1) // 2
    if op == "max_pool":
        return nn.MaxPool2d(layer.kernel, stride=layer.stride, padding=pad), c_in
    if op == "avg_pool":
        return nn.AvgPool2d(layer.kernel, stride=layer.stride, padding=pad, count_include_pad=False), c_in
    if op == "conv":
        conv = [nn.Conv2d(c_in, layer.filters, layer.kernel, stride=layer.stride, padding=pad, bias=False)]
    elif op == "sep_conv":
        conv = [
            nn.Conv2d(c_in, c_in, layer.kernel, stride=layer.stride, padding=pad, groups=c_in, bias=False),
            nn.Conv2d(c_in, layer.filters, 1, bias=False),
        ]
    else:
        raise UnknownOpError(f"no PyTorch module for op {op!r}; known ops: 'conv', 'sep_conv', 'max_pool', "
                             f"'avg_pool', 'identity'")
    parts = [*conv, nn.BatchNorm2d(layer.filters), _activation(layer.activation)]
    if layer.dropout:
        parts.append(nn.Dropout(layer.dropout))
    return nn.Sequential(*parts), layer.filters


class MacroNetwork(nn.Module):
    """A layer chain, then global average pooling, the hidden fully connected layers
    (``Linear(units) -> ReLU`` each, in ``fc``; empty when there are none) and a linear
    classifier (see :meth:`MacroSpace.build`)."""

    def __init__(self, arch, num_classes: int = 10, in_channels: int = 1):
        super().__init__()
        self.arch = arch
        modules = []
        c = in_channels
        for layer in arch.layers:
            module, c = make_layer(layer, c)
            modules.append(module)
        self.layers = nn.Sequential(*modules)
        self.pool = nn.AdaptiveAvgPool2d(1)
        hidden = []
        for units in arch.fc:
            hidden += [nn.Linear(c, units), nn.ReLU()]
            c = units
        self.fc = nn.Sequential(*hidden)
        self.classifier = nn.Linear(c, num_classes)

    def forward(self, x):
        return self.classifier(self.fc(torch.flatten(self.pool(self.layers(x)), 1)))
