"""Many :class:`~nasviz.CellSpace` networks trained at once as one fused network.

K candidates are stacked along the channel axis: activations are shaped
``(B, K*C, H, W)``, candidate ``k`` owning channels ``k*C .. (k+1)*C - 1``.

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
``CellSpace.build`` made (with the same seeding as one-at-a-time training), every
candidate sees the same minibatches, and the loss is the sum over candidates of
each candidate's mean cross-entropy, so each candidate's gradient equals the one it
would get alone; SGD (momentum, weight decay) and Adam act elementwise, so one
optimizer over the fused parameters equals one optimizer per candidate. Results
match one-at-a-time training up to floating-point rounding (grouped and plain
convolutions sum in different orders).

A candidate whose loss becomes NaN or infinite is masked out of the loss from
then on (``torch.where``, so its NaNs never reach the others' gradients) and
reported as failed; the others train on undisturbed.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from ..spaces import CellSpace
from ..spaces.cell_model import Cell, CellNetwork, ReLUConvBN, ResNetBasicBlock

__all__ = ["FusedCellNetwork", "NotFusable", "activation_bytes", "candidate_losses", "fit_fused", "fusable"]


class NotFusable(Exception):
    """The networks cannot be fused (not CellSpace networks, or an op without a fused form)."""


def _cat(tensors):
    return torch.cat([t.detach() for t in tensors], 0).clone()


class _Linked(nn.Module):
    """A fused module whose tensors are the per-candidate tensors concatenated along dim 0."""

    def _link(self, name, sources):
        self.__dict__.setdefault("_links", []).append((name, list(sources)))

    def write_back(self):
        with torch.no_grad():
            for name, sources in self.__dict__.get("_links", []):
                fused = getattr(self, name).detach().to("cpu")
                for src, part in zip(sources, fused.split([s.shape[0] for s in sources], 0)):
                    src.copy_(part.reshape(src.shape))


class _FusedBN(_Linked):
    def __init__(self, bns):
        super().__init__()
        self.weight = nn.Parameter(_cat([b.weight for b in bns]))
        self.bias = nn.Parameter(_cat([b.bias for b in bns]))
        self.register_buffer("running_mean", _cat([b.running_mean for b in bns]))
        self.register_buffer("running_var", _cat([b.running_var for b in bns]))
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


class _FusedConv(_Linked):
    """A grouped convolution: one group per candidate (``shared_input``: one input for all)."""

    def __init__(self, convs, shared_input=False):
        super().__init__()
        c = convs[0]
        self.weight = nn.Parameter(_cat([m.weight for m in convs]))
        self._link("weight", [m.weight for m in convs])
        self.stride, self.padding = c.stride, c.padding
        self.groups = 1 if shared_input else len(convs)

    def forward(self, x):
        return F.conv2d(x, self.weight, None, self.stride, self.padding, 1, self.groups)


class _FusedReLUConvBN(nn.Module):
    def __init__(self, blocks):
        super().__init__()
        self.conv = _FusedConv([b[1] for b in blocks])
        self.bn = _FusedBN([b[2] for b in blocks])

    def forward(self, x, relu=True):
        return self.bn(self.conv(F.relu(x) if relu else x))


def _blocks(x, k, c):
    """A view of ``x`` (B, K*C, H, W) with a candidate axis, and that axis: (B, K, C, H, W) or,
    for channels-last tensors, (B, H, W, K, C)."""
    b, _, h, w = x.shape
    if not x.is_contiguous() and x.is_contiguous(memory_format=torch.channels_last):
        return x.permute(0, 2, 3, 1).reshape(b, h, w, k, c), 3
    return x.reshape(b, k, c, h, w), 1


def _unblocks(blocks, axis):
    if axis == 3:
        b, h, w, k, c = blocks.shape
        return blocks.reshape(b, h, w, k * c).permute(0, 3, 1, 2)
    b, k, c, h, w = blocks.shape
    return blocks.reshape(b, k * c, h, w)


class _GatherGroups(torch.autograd.Function):
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


class _AvgPool3x3(nn.Module):
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
                    self.convs.append(_FusedReLUConvBN(mods))
                    slot = len(self.convs) - 1
                elif key[0] == "pool":
                    self.pools.append(_AvgPool3x3() if key[1] == "avg3" else mods[0])
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
        x_blocks, axis = _blocks(x, k, c)
        fmt = torch.channels_last if axis == 3 else torch.contiguous_format
        b, _, h, w = x.shape
        n = self.nodes - 1
        sums = x.new_zeros((b, h, w, n * k, c) if axis == 3 else (b, n * k, c, h, w))
        for i in range(n):
            steps = self.plan[i]
            names = [gather for _, _, gather, _ in steps if gather is not None]
            gathered = iter(_GatherGroups.apply(sums if i else x_blocks, axis, *[getattr(self, m) for m in names])
                            if names else ())
            for kind, slot, gather, dest in steps:
                src = x if gather is None else _unblocks(next(gathered), axis)
                if kind == "conv":
                    y = self.convs[slot](src)
                elif kind == "pool":
                    y = self.pools[slot](src)
                else:
                    y = src
                sums.index_add_(axis, getattr(self, dest), _blocks(y.contiguous(memory_format=fmt), -1, c)[0])
        return _unblocks(sums.narrow(axis, (n - 1) * k, k), axis)


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
        self.conv_a = _FusedReLUConvBN([b.conv_a for b in blocks])
        self.conv_b = _FusedReLUConvBN([b.conv_b for b in blocks])
        self.pool = blocks[0].downsample[0]
        self.down = _FusedConv([b.downsample[1] for b in blocks])

    def forward(self, x):
        return self.down(self.pool(x)) + self.conv_b(self.conv_a(x))


class FusedCellNetwork(_Linked):
    """K :class:`~nasviz.spaces.cell_model.CellNetwork` s as one module; ``forward`` returns (B, K, classes)."""

    def __init__(self, nets, channels_last: bool = False):
        super().__init__()
        self.channels_last = channels_last
        if not fusable(nets):
            raise NotFusable("only CellSpace networks with the same skeleton can be fused")
        k = len(nets)
        self.k = k
        self.__dict__["nets"] = list(nets)
        self.stem_conv = _FusedConv([n.stem[0] for n in nets], shared_input=True)
        self.stem_bn = _FusedBN([n.stem[1] for n in nets])
        layers = []
        for pos, layer in enumerate(nets[0].cells):
            group = [n.cells[pos] for n in nets]
            if isinstance(layer, Cell):
                layers.append(_FusedCell(group, _cell_channels(nets, pos)))
            else:
                layers.append(_FusedResBlock(group))
        self.layers = nn.ModuleList(layers)
        self.last_bn = _FusedBN([n.lastact[0] for n in nets])
        lin = nets[0].classifier
        self.num_classes, self.features = lin.out_features, lin.in_features
        self.weight = nn.Parameter(_cat([n.classifier.weight for n in nets]))
        self.bias = nn.Parameter(_cat([n.classifier.bias for n in nets]))
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
        bns = [m for m in self.modules() if isinstance(m, _FusedBN)]
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
            if isinstance(m, _Linked):
                _Linked.write_back(m)
            if isinstance(m, _FusedBN) and steps:
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
