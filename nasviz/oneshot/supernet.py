"""A weight-sharing supernet over :class:`~nasviz.CellSpace`: every cell is one path through it.

The supernet has exactly the skeleton that :meth:`CellSpace.build <nasviz.CellSpace.build>`
makes (stem, three stages of cells with a residual reduction block opening stages 2 and 3,
BatchNorm + ReLU, global average pooling, a linear classifier: :meth:`CellSpace.blocks
<nasviz.CellSpace.blocks>`), built by the same code. Only the cells differ: every edge of a
:class:`SuperCell` holds one module per op of the space (``none``, ``skip_connect`` and the
pools have no weights), and :meth:`Supernet.forward` runs the single path of one cell
architecture, the same cell at every cell position, as ``CellSpace.build`` places it. The
stem, the reductions and the head are shared by all paths.

A path is a stand-alone network with shared weights: :meth:`Supernet.network` builds
``space.build(arch, ...)`` and copies the path's weights into it (:meth:`Supernet.path_keys`
maps its state-dict keys to the supernet's), so that ``supernet(x, arch)`` equals
``supernet.network(arch)(x)``; :meth:`Supernet.load_network` copies a stand-alone network's
weights back into its path.

Examples
--------
>>> import torch, nasviz as nv
>>> from nasviz.oneshot import Supernet
>>> _ = torch.manual_seed(0)
>>> space = nv.CellSpace()
>>> net = Supernet(space, num_classes=10, in_channels=1, channels=4).eval()
>>> arch = space.sample(seed=0)
>>> x = torch.randn(2, 1, 8, 8)
>>> torch.allclose(net(x, arch), net.network(arch)(x), atol=1e-6)
True
"""

from __future__ import annotations

import torch
from torch import nn

from ..errors import InvalidArgumentError, UnknownOpError
from ..spaces.cell import CellSpace
from ..spaces.cell_model import OPS

__all__ = ["SuperCell", "Supernet"]


class SuperCell(nn.Module):
    """A cell whose every edge holds one module per op of ``space``; ``forward(x, ops)`` runs one path.

    ``choices[k][op]`` is the module of ``op`` on edge ``k`` (edges in ``space.edges`` order).
    Node ``j`` sums ``op_ij(node_i)`` over ``i < j``, ``none`` edges skipped, a node without
    inputs is zero: :class:`nasviz.spaces.cell_model.Cell` with the ops of the path.
    """

    def __init__(self, space: CellSpace, channels: int):
        super().__init__()
        for op in space.ops:
            if op not in OPS:
                raise UnknownOpError(f"no PyTorch module for op {op!r}; known ops: {', '.join(map(repr, OPS))}")
        self.nodes = space.nodes
        self.op_names = tuple(space.ops)
        self.choices = nn.ModuleList(nn.ModuleDict({op: OPS[op](channels) for op in space.ops})
                                     for _ in space.edges)

    def forward(self, x, ops):
        states = [x]
        k = 0
        for j in range(1, self.nodes):
            total = None
            for i in range(j):
                if ops[k] != "none":
                    y = self.choices[k][ops[k]](states[i])
                    total = y if total is None else total + y
                k += 1
            states.append(total if total is not None else torch.zeros_like(x))
        return states[-1]

    def forward_weighted(self, x, weights, chosen=None):
        """A continuous relaxation of the cell: edge ``k`` gives ``sum_o weights[k, o] * op_o(input)``.

        ``weights`` is a tensor (edges, ops), ops in ``space.ops`` order (DARTS: a softmax per
        edge; ``none`` contributes nothing, as its zero output times any weight). With
        ``chosen`` (one op index per edge: GDAS's sample) only that op runs: the edge gives
        ``weights[k, c] * op_c(input)`` plus ``weights[k, o]`` for every other op ``o``, whose
        value is zero for a one-hot ``weights`` but passes gradient to them, as NAS-Bench-201's
        GDAS code does.
        """
        states = [x]
        k = 0
        for j in range(1, self.nodes):
            total = torch.zeros_like(x)
            for i in range(j):
                if chosen is None:
                    for o, op in enumerate(self.op_names):
                        if op != "none":
                            total = total + weights[k, o] * self.choices[k][op](states[i])
                else:
                    c = int(chosen[k])
                    op = self.op_names[c]
                    if op != "none":
                        total = total + weights[k, c] * self.choices[k][op](states[i])
                    total = total + (weights[k].sum() - weights[k, c])
                k += 1
            states.append(total)
        return states[-1]


class Supernet(nn.Module):
    """Every cell of a :class:`~nasviz.CellSpace` in one network with shared weights.

    Parameters
    ----------
    space : CellSpace, optional
        The cells; default ``nv.CellSpace()`` (NAS-Bench-201's).
    num_classes, in_channels : int
        As for :meth:`CellSpace.build <nasviz.CellSpace.build>`.
    channels, cells_per_stage : int
        Width of the first stage and cells per stage, as for ``CellSpace.build`` (the same
        defaults: 16 and 1).

    Notes
    -----
    Module names follow ``CellSpace.build``'s network (``stem``, ``cells``, ``lastact``,
    ``pool``, ``classifier``); a cell position holds a :class:`SuperCell`, whose edge ``k``
    keeps op ``op``'s module at ``choices.k.op``. The weights are initialised by torch's
    global generator, as ``space.build`` initialises a network (seed it, or fork it, for
    reproducible weights).

    Examples
    --------
    >>> import torch, nasviz as nv
    >>> net = Supernet(nv.CellSpace(), channels=4)
    >>> arch = nv.CellSpace().from_string(
    ...     "|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|")
    >>> net(torch.zeros(3, 1, 8, 8), arch).shape
    torch.Size([3, 10])
    >>> net.path_keys(arch)["cells.0.ops.0.1.weight"]
    'cells.0.choices.0.nor_conv_3x3.1.weight'
    """

    def __init__(self, space=None, num_classes: int = 10, in_channels: int = 1, *, channels: int = 16,
                 cells_per_stage: int = 1):
        super().__init__()
        self.space = space
        self.num_classes = num_classes
        self.in_channels = in_channels
        self.channels = channels
        self.cells_per_stage = cells_per_stage
        space = self.cell_space
        if not isinstance(space, CellSpace):
            raise InvalidArgumentError(f"a supernet needs a CellSpace (e.g. nv.CellSpace()), got {space!r}")
        blocks = space.blocks(num_classes, in_channels, channels=channels, cells_per_stage=cells_per_stage)
        # the skeleton is CellSpace.build's own network; its cells (here without weights) become SuperCells
        empty = "none" if "none" in space.ops else space.ops[0]
        skeleton = space.build(space.from_ops([empty] * len(space.edges)), num_classes, in_channels,
                               channels=channels, cells_per_stage=cells_per_stage)
        self.stem = skeleton.stem
        self.cells = nn.Sequential(*(SuperCell(space, block.in_shape[0]) if block.kind == "cell" else module
                                     for block, module in zip(blocks[1:-1], skeleton.cells)))
        self.lastact = skeleton.lastact
        self.pool = skeleton.pool
        self.classifier = skeleton.classifier
        self._state_keys = tuple(self.state_dict(keep_vars=True))  # the modules never change: keys computed once

    @property
    def cell_space(self) -> CellSpace:
        """The space of the cells (``space``, or ``nv.CellSpace()`` when it is None)."""
        return CellSpace() if self.space is None else self.space

    def _ops(self, arch) -> tuple:
        return self.cell_space.validate(arch).ops

    def forward(self, x, arch):
        """The logits of the path of ``arch`` (a cell of the space, or its string) on ``x``."""
        ops = self._ops(arch)
        x = self.stem(x)
        for module in self.cells:
            x = module(x, ops) if isinstance(module, SuperCell) else module(x)
        x = self.lastact(x)
        return self.classifier(torch.flatten(self.pool(x), 1))

    def forward_weighted(self, x, weights, chosen=None):
        """The logits of the relaxed network: every cell position runs
        :meth:`SuperCell.forward_weighted` with the same ``weights`` (edges, ops) and ``chosen``
        (the architecture weights are shared by all cells, as in DARTS on NAS-Bench-201)."""
        x = self.stem(x)
        for module in self.cells:
            x = module.forward_weighted(x, weights, chosen) if isinstance(module, SuperCell) else module(x)
        x = self.lastact(x)
        return self.classifier(torch.flatten(self.pool(x), 1))

    # -- paths as stand-alone networks ----------------------------------------------------
    def path_keys(self, arch) -> dict:
        """The state-dict mapping of ``arch``'s path: each key of ``space.build(arch, ...)``'s state dict
        -> the supernet key that holds its tensor (shared parts map to themselves)."""
        ops = self._ops(arch)
        mapping = {}
        for key in self._state_keys:
            parts = key.split(".")
            if parts[0] == "cells" and len(parts) > 4 and parts[2] == "choices":
                edge, op = int(parts[3]), parts[4]
                if op == ops[edge]:
                    mapping[".".join(["cells", parts[1], "ops", parts[3], *parts[5:]])] = key
            else:
                mapping[key] = key
        return mapping

    def path_state_dict(self, arch) -> dict:
        """The weights and buffers of ``arch``'s path under the stand-alone network's keys (the supernet's
        own tensors, not copies): ``space.build(arch, ...).load_state_dict`` takes it."""
        own = self.state_dict()
        return {alone: own[key] for alone, key in self.path_keys(arch).items()}

    def network(self, arch):
        """The stand-alone network of ``arch`` (``space.build(arch, ...)`` with this supernet's sizes) holding
        a copy of its path's weights and buffers, on the supernet's device, in the supernet's mode
        (training or evaluation).

        The network is laid out on PyTorch's ``meta`` device and then filled from the path, so
        building it draws no random numbers: torch's global generator is left as it was. Training
        the copy leaves the supernet as it is.
        """
        arch = self.cell_space.validate(arch)
        with torch.device("meta"):
            net = self.cell_space.build(arch, self.num_classes, self.in_channels, channels=self.channels,
                                        cells_per_stage=self.cells_per_stage)
        net = net.to_empty(device=self.classifier.weight.device)
        net.load_state_dict(self.path_state_dict(arch))  # strict: every tensor of the network comes from the path
        return net.train(self.training)

    def load_network(self, network, arch=None) -> None:
        """Copy a stand-alone network's weights and buffers into its path (the reverse of :meth:`network`).

        ``network`` is ``space.build(arch, ...)`` with this supernet's sizes (its ``arch``
        attribute names the cell unless ``arch`` is given). The shared stem, reductions and
        head take its weights too; the other ops' modules keep theirs.
        """
        arch = getattr(network, "arch", None) if arch is None else arch
        if arch is None:
            raise InvalidArgumentError("load_network needs the network's cell: pass arch=..., or a network made "
                                       "by space.build(arch, ...), which records it")
        mapping = self.path_keys(arch)
        theirs = network.state_dict()
        missing, extra = sorted(set(mapping) - set(theirs)), sorted(set(theirs) - set(mapping))
        if missing or extra:
            raise InvalidArgumentError(
                f"the network does not fit the path of {str(self.cell_space.validate(arch))!r}: missing "
                f"{missing[:3]}, unexpected {extra[:3]}; build it with space.build(arch, num_classes="
                f"{self.num_classes}, in_channels={self.in_channels}, channels={self.channels}, "
                f"cells_per_stage={self.cells_per_stage})")
        own = self.state_dict()
        with torch.no_grad():
            for alone, key in mapping.items():
                if own[key].shape != theirs[alone].shape:
                    raise InvalidArgumentError(f"{alone} has shape {tuple(theirs[alone].shape)}, the supernet's "
                                               f"{key} {tuple(own[key].shape)}: build the network with the "
                                               "supernet's sizes")
            for alone, key in mapping.items():
                own[key].copy_(theirs[alone])
