"""Differentiable architecture search over a supernet: DARTS and GDAS.

Both keep one architecture parameter per (edge, op), ``alpha`` (shared by every cell position,
as on NAS-Bench-201), and train it by gradient descent together with the supernet's weights
(:class:`~nasviz.oneshot.Supernet`, every op of every edge):

- **DARTS** (Liu, Simonyan & Yang, "DARTS: Differentiable Architecture Search", ICLR 2019),
  first order: each edge outputs the softmax(alpha)-weighted sum of all its ops
  (:meth:`Supernet.forward_weighted <nasviz.oneshot.Supernet.forward_weighted>`). Each step
  takes one Adam step on ``alpha`` with the loss of a minibatch from the *architecture half*
  of the training images, then one SGD step on the weights with a minibatch from the *weight
  half* (DARTS splits CIFAR-10's training set in two the same way; the validation split, on
  which the truth of the tables is measured, is never seen). ``order=2`` is DARTS's
  second-order (unrolled) update: the gradient of the architecture loss is taken at the
  weights one virtual SGD step ahead, ``w' = w - lr * (momentum * buffer + grad + weight_decay * w)``
  on the weight minibatch (the paper's eq. 6-8 and its reference code; ``lr`` is the weights'
  current learning rate), differentiated through that step. By default it is exact, by double
  backpropagation (``hessian="exact"``); the paper estimates the Hessian-vector product by
  central finite differences at ``w +- eps * v``, ``eps = 0.01 / |v|``
  (``hessian="finite-difference"``), which on networks this small is far off: on shifted201's
  supernet at initialisation its estimate differs from the exact gradient by about its own
  size (relative error 1.05 in float32, cosine 0.69), since the loss bends sharply within 0.01
  of ``w``. An exact architecture step costs about six times a first-order one (0.46 vs
  0.08 s, 4 channels, batch 64, one thread). DARTS's authors and NAS-Bench-201 report that
  the first-order form finds cells as good.
- **GDAS** (Dong & Yang, "Searching for a Robust Neural Architecture in Four GPU Hours",
  CVPR 2019): each step samples one op per edge with the Gumbel-softmax of ``alpha`` at a
  temperature that falls linearly from ``tau_max`` to ``tau_min``; only the sampled op runs,
  and a straight-through one-hot passes the gradient to ``alpha``. Weights and ``alpha``
  are updated in the same step on the weight half and the architecture half.

The derived cell is the op of largest ``alpha`` on every edge, ``none`` included, as
NAS-Bench-201's ``genotype`` derives it (``keep_none=False``: the largest other op, as the
DARTS paper derives cells). The run's :class:`DifferentiableHistory` keeps the op
probabilities and the derived cell of every epoch, so that the known failure of DARTS on
this space (cells collapsing to parameter-free ops, ``skip_connect`` and pooling, as the search
goes on: NAS-Bench-201, ICLR 2020, Fig. 7; Zela et al., "Understanding and Robustifying
Differentiable Architecture Search", ICLR 2020) can be compared with the truth of a table.

Random choices (the split, minibatch order, Gumbel noise) come from generators seeded with
``seed``; the supernet's initial weights come from torch's global generator forked and seeded
with ``seed`` (its state outside is left as it was).

Examples
--------
>>> import nasviz as nv
>>> from nasviz.oneshot import DARTS
>>> data = nv.data.digits(resolution=4, subset=0.25)
>>> history = DARTS(nv.CellSpace(), data, epochs=2, channels=2, seed=0).run()
>>> history.probabilities.shape, len(history.cells)
((3, 6, 5), 3)
>>> history.best in nv.CellSpace()
True
"""

from __future__ import annotations

import contextlib
import math
import time
from dataclasses import dataclass, field

import numpy as np

from ..data import check_data
from ..errors import InvalidArgumentError, check_positive_int
from ..spaces.cell import CellSpace
from ..validation import check_bool, check_number, check_seed

__all__ = ["DARTS", "GDAS", "HESSIANS", "DifferentiableHistory", "DifferentiableSearch", "unrolled_alpha_grad"]

#: How the second-order update gets its Hessian-vector product (``DARTS(order=2, hessian=...)``).
HESSIANS = ("exact", "finite-difference")


@dataclass
class DifferentiableHistory:
    """What a differentiable search recorded, epoch by epoch (row 0: before training).

    Attributes
    ----------
    space : CellSpace
        The space searched.
    method : str
        ``"darts"`` or ``"gdas"``.
    probabilities : numpy.ndarray
        (epochs + 1, edges, ops): softmax of ``alpha`` per edge, ops in ``space.ops`` order.
    cells : list of Architecture
        The derived cell (largest ``alpha`` per edge) after each epoch, ``cells[0]`` before any.
    train_loss, train_accuracy, arch_loss : list of float
        Per epoch: mean loss and accuracy of the weight steps, mean loss of the architecture steps.
    seconds : float
        Wall time of the search.
    """

    space: CellSpace
    method: str
    probabilities: np.ndarray
    cells: list
    train_loss: list = field(default_factory=list)
    train_accuracy: list = field(default_factory=list)
    arch_loss: list = field(default_factory=list)
    seconds: float = 0.0

    @property
    def best(self):
        """The cell the search returns: the derived cell of the last epoch."""
        return self.cells[-1]

    def op_shares(self) -> np.ndarray:
        """(epochs + 1, ops): the mean probability of each op over the edges, per epoch."""
        return self.probabilities.mean(axis=1)

    def to_dataframe(self):
        """One row per epoch: ``epoch``, ``cell`` (its string), ``p_<op>`` (mean probability over the
        edges), ``parameter_free`` (edges of the derived cell whose op has no weights), ``train_loss``,
        ``train_accuracy``, ``arch_loss`` (NaN for epoch 0)."""
        import pandas as pd

        ops = list(self.space.ops)
        shares = self.op_shares()
        rows = []
        for e, cell in enumerate(self.cells):
            row = {"epoch": e, "cell": str(cell)}
            row.update({f"p_{op}": float(shares[e, o]) for o, op in enumerate(ops)})
            row["parameter_free"] = sum(op in ("skip_connect", "avg_pool_3x3", "max_pool_3x3", "none")
                                        for op in cell.ops)
            for name in ("train_loss", "train_accuracy", "arch_loss"):
                values = getattr(self, name)
                row[name] = float(values[e - 1]) if e else float("nan")
            rows.append(row)
        return pd.DataFrame(rows)

    def plot(self, ax=None, truth=None):
        """Mean op probability over the edges per epoch (one line per op, coloured as ``nv.draw`` colours
        ops); with ``truth`` (a function of a cell, e.g. ``bench.lookup``-based), the derived cell's truth
        on a second axis. Returns the matplotlib Axes."""
        import matplotlib.pyplot as plt

        from ..drawing.styles import op_styles

        ax = plt.gca() if ax is None else ax
        shares = self.op_shares()
        epochs = np.arange(len(self.cells))
        styles = op_styles(self.space.ops)
        for o, op in enumerate(self.space.ops):
            color, dash = styles[op]
            ax.plot(epochs, shares[:, o], label=op, color=color, linestyle=dash, lw=2)
        ax.set_xlabel("search epoch")
        ax.set_ylabel("mean op probability over the edges")
        ax.set_ylim(0, max(0.4, float(shares.max()) + 0.05))  # uniform is 1 / ops: small moves stay visible
        ax.set_title(f"{self.method.upper()}: what the architecture weights prefer")
        handles, labels = ax.get_legend_handles_labels()
        if truth is not None:
            twin = ax.twinx()
            twin.plot(epochs, [truth(c) for c in self.cells], "k--o", ms=3, label="truth of the derived cell")
            twin.set_ylabel("truth of the derived cell")
            more, names = twin.get_legend_handles_labels()
            handles, labels = handles + more, labels + names
        ax.legend(handles, labels, loc="upper center", bbox_to_anchor=(0.5, -0.2), ncol=3, fontsize=9, frameon=False)
        return ax


class DifferentiableSearch:
    """The loop both DARTS and GDAS share; :class:`DARTS` and :class:`GDAS` say how an edge mixes its ops.

    Parameters
    ----------
    space : CellSpace, optional
        The cells; default ``nv.CellSpace()``.
    data : nasviz.data.Data
        Its training part is split in two halves, for the weights and for ``alpha``.
    epochs : int
        Passes over the weight half.
    channels, cells_per_stage : int
        Supernet sizes, as for ``CellSpace.build``.
    batch_size : int
        Minibatch size of both halves.
    lr, weight_decay : float
        SGD (momentum 0.9) on the weights, cosine-decayed to zero; L2 penalty.
    arch_lr, arch_weight_decay : float
        Adam (betas 0.5, 0.999, as DARTS) on ``alpha``. DARTS uses 3e-4 over ~10,000 steps on
        CIFAR-10; these tables have ~10 steps per epoch, hence the larger default.
    grad_clip : float
        Gradient-norm clipping of the weights (DARTS: 5).
    keep_none : bool
        Whether a derived cell may have ``none`` edges (NAS-Bench-201's derivation, the default)
        or takes the strongest other op on every edge (the DARTS paper's).
    seed : int
        The split, minibatch order, Gumbel noise and initial weights.
    device : str
        ``"cpu"``, ``"cuda"`` or ``"auto"``.
    """

    method = ""

    def __init__(self, space=None, data=None, *, epochs: int = 20, channels: int = 4, cells_per_stage: int = 1,
                 batch_size: int = 64, lr: float = 0.05, weight_decay: float = 3e-4, arch_lr: float = 0.01,
                 arch_weight_decay: float = 1e-3, grad_clip: float = 5.0, keep_none: bool = True, seed: int = 0,
                 device: str = "cpu"):
        self.space = space
        self.data = data
        self.epochs = epochs
        self.channels = channels
        self.cells_per_stage = cells_per_stage
        self.batch_size = batch_size
        self.lr = lr
        self.weight_decay = weight_decay
        self.arch_lr = arch_lr
        self.arch_weight_decay = arch_weight_decay
        self.grad_clip = grad_clip
        self.keep_none = keep_none
        self.seed = seed
        self.device = device
        self._check()

    def _check(self):
        space = self.cell_space
        if not isinstance(space, CellSpace):
            raise InvalidArgumentError(f"{type(self).__name__} searches a CellSpace (e.g. nv.CellSpace()), "
                                       f"got {self.space!r}")
        if self.data is None:
            raise InvalidArgumentError(f"{type(self).__name__} trains a supernet: pass data=, e.g. "
                                       "nv.data.digits()")
        check_data(self.data)
        if len(self.data.y_train) < 2:
            raise InvalidArgumentError("the training part needs at least 2 images to split in two halves")
        for name in ("epochs", "channels", "cells_per_stage", "batch_size"):
            check_positive_int(name, getattr(self, name))
        for name in ("lr", "arch_lr", "grad_clip"):
            check_number(name, getattr(self, name), minimum=0, min_open=True)
        for name in ("weight_decay", "arch_weight_decay"):
            check_number(name, getattr(self, name), minimum=0)
        check_bool("keep_none", self.keep_none)
        if not self.keep_none and set(space.ops) <= {"none"}:
            raise InvalidArgumentError("keep_none=False needs an op other than 'none' in the space")
        check_seed("seed", self.seed, allow_none=False)
        from ..devices import resolve_device

        resolve_device(self.device)

    def __repr__(self):
        return (f"{type(self).__name__}(space={self.space!r}, epochs={self.epochs}, channels={self.channels}, "
                f"seed={self.seed})")

    @property
    def cell_space(self) -> CellSpace:
        return CellSpace() if self.space is None else self.space

    # -- what the two methods define ------------------------------------------------------
    def _order(self) -> int:
        return 1

    def _edge_weights(self, alpha, epoch: int, noise):
        """(weights, chosen) for one forward pass: see :meth:`Supernet.forward_weighted`."""
        raise NotImplementedError

    # -- the loop ----------------------------------------------------------------------------
    def run(self) -> DifferentiableHistory:
        """Search; returns the :class:`DifferentiableHistory` (``history.best`` is the cell found)."""
        import torch
        import torch.nn.functional as F

        from ..devices import resolve_device
        from .supernet import Supernet

        start = time.perf_counter()
        space = self.cell_space
        device = resolve_device(self.device)
        data = self.data.to(device)
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(int(self.seed))
            net = Supernet(space, data.num_classes, data.in_channels, channels=self.channels,
                           cells_per_stage=self.cells_per_stage).to(device)
        alpha = torch.zeros(len(space.edges), len(space.ops), device=device)
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(int(self.seed))
            alpha.normal_(0, 1e-3)  # as DARTS: small random, so ties break by data
        alpha.requires_grad_(True)
        gen = torch.Generator().manual_seed(int(self.seed))
        noise = torch.Generator(device=device).manual_seed(int(self.seed) + 1)
        order = torch.randperm(len(data.y_train), generator=gen)
        half = len(order) // 2
        w_idx, a_idx = order[:half].to(device), order[half:].to(device)
        weights_opt = torch.optim.SGD(net.parameters(), lr=self.lr, momentum=0.9, weight_decay=self.weight_decay)
        arch_opt = torch.optim.Adam([alpha], lr=self.arch_lr, betas=(0.5, 0.999), weight_decay=self.arch_weight_decay)
        steps = math.ceil(half / self.batch_size)
        total = self.epochs * steps
        probs = [torch.softmax(alpha.detach(), -1).cpu().numpy()]
        history = DifferentiableHistory(space, self.method, None, [self._derive(alpha)])
        step = 0
        for epoch in range(self.epochs):
            net.train()
            w_perm = w_idx[torch.randperm(half, generator=gen).to(device)]
            a_perm = a_idx[torch.randperm(len(a_idx), generator=gen).to(device)]
            sums = torch.zeros(3, dtype=torch.float64, device=device)
            seen = 0
            for s in range(steps):
                wb = w_perm[s * self.batch_size:(s + 1) * self.batch_size]
                ab = a_perm[s * self.batch_size:(s + 1) * self.batch_size]
                if not len(ab):
                    ab = a_perm[:self.batch_size]
                lr_now = self.lr * 0.5 * (1 + math.cos(math.pi * step / total))
                # architecture step on the architecture half
                arch_opt.zero_grad(set_to_none=True)
                net.zero_grad(set_to_none=True)
                if self._order() == 2:
                    grad, arch_loss = unrolled_alpha_grad(
                        net, lambda epoch=epoch: self._edge_weights(alpha, epoch, noise), alpha,
                        (data.X_train[wb], data.y_train[wb]), (data.X_train[ab], data.y_train[ab]),
                        lr=lr_now, weights_opt=weights_opt, weight_decay=self.weight_decay,
                        hessian=self.hessian)
                    alpha.grad = grad
                else:
                    weights, chosen = self._edge_weights(alpha, epoch, noise)
                    arch_loss = F.cross_entropy(net.forward_weighted(data.X_train[ab], weights, chosen),
                                                data.y_train[ab])
                    arch_loss.backward()
                arch_opt.step()
                # weight step on the weight half
                for group in weights_opt.param_groups:
                    group["lr"] = lr_now
                weights, chosen = self._edge_weights(alpha.detach(), epoch, noise)
                logits = net.forward_weighted(data.X_train[wb], weights, chosen)
                loss = F.cross_entropy(logits, data.y_train[wb])
                weights_opt.zero_grad(set_to_none=True)
                loss.backward()
                torch.nn.utils.clip_grad_norm_(net.parameters(), self.grad_clip)
                weights_opt.step()
                sums += torch.stack([loss.detach().double() * len(wb),
                                     (logits.detach().argmax(-1) == data.y_train[wb]).sum().double(),
                                     arch_loss.detach().double() * len(wb)])
                seen += len(wb)
                step += 1
            loss_sum, hits, arch_sum = (sums / seen).tolist()
            if not math.isfinite(loss_sum) or not math.isfinite(arch_sum):
                raise InvalidArgumentError(f"{type(self).__name__}: the loss became non-finite in epoch "
                                           f"{epoch + 1}; try a smaller lr or arch_lr")
            history.train_loss.append(loss_sum)
            history.train_accuracy.append(hits)
            history.arch_loss.append(arch_sum)
            probs.append(torch.softmax(alpha.detach(), -1).cpu().numpy())
            history.cells.append(self._derive(alpha))
        history.probabilities = np.stack(probs).astype(float)
        history.seconds = time.perf_counter() - start
        return history

    def _derive(self, alpha):
        space = self.cell_space
        alpha = alpha.detach().clone()
        if not self.keep_none and "none" in space.ops:
            alpha[:, space.ops.index("none")] = float("-inf")
        best = alpha.argmax(-1).tolist()
        return space.from_ops([space.ops[o] for o in best])


class DARTS(DifferentiableSearch):
    """DARTS: every edge is the softmax(alpha)-weighted sum of its ops (module docstring).

    Parameters
    ----------
    order : {1, 2}
        1: the first-order update (alpha's gradient at the current weights); 2: the
        second-order (unrolled) update of the DARTS paper (module docstring).
    hessian : {"exact", "finite-difference"}
        With ``order=2``: differentiate through the virtual step exactly, or estimate the
        Hessian-vector product by finite differences as the paper does.
    **kwargs
        As :class:`DifferentiableSearch`.

    Examples
    --------
    >>> import nasviz as nv
    >>> h = DARTS(data=nv.data.digits(resolution=4, subset=0.25), epochs=1, channels=2, seed=0).run()
    >>> round(float(h.probabilities[-1].sum(-1).mean()), 6)
    1.0
    >>> DARTS(data=nv.data.digits(resolution=4, subset=0.25), order=2, epochs=1, channels=2).run().method
    'darts-2nd'
    """

    def __init__(self, space=None, data=None, *, order: int = 1, hessian: str = "exact", **kwargs):
        self.order = order
        self.hessian = hessian
        super().__init__(space, data, **kwargs)

    @property
    def method(self) -> str:
        return "darts" if self.order == 1 else "darts-2nd"

    def _check(self):
        if self.order not in (1, 2) or isinstance(self.order, bool):
            raise InvalidArgumentError(f"order must be 1 (first-order DARTS) or 2 (second order, unrolled), "
                                       f"got {self.order!r}")
        if self.hessian not in HESSIANS:
            raise InvalidArgumentError(f"hessian must be 'exact' or 'finite-difference' (the paper's estimate), "
                                       f"got {self.hessian!r}")
        super()._check()

    def _order(self) -> int:
        return self.order

    def _edge_weights(self, alpha, epoch, noise):
        import torch

        return torch.softmax(alpha, -1), None


class GDAS(DifferentiableSearch):
    """GDAS: one op per edge sampled by a Gumbel-softmax of alpha, temperature ``tau_max`` -> ``tau_min``.

    Parameters
    ----------
    tau_max, tau_min : float
        Temperature of the first and last epoch (GDAS: 10 and 0.1), linear in between.
    **kwargs
        As :class:`DifferentiableSearch`.

    Examples
    --------
    >>> import nasviz as nv
    >>> h = GDAS(data=nv.data.digits(resolution=4, subset=0.25), epochs=1, channels=2, seed=0).run()
    >>> h.method, h.best in nv.CellSpace()
    ('gdas', True)
    """

    method = "gdas"

    def __init__(self, space=None, data=None, *, tau_max: float = 10.0, tau_min: float = 0.1, **kwargs):
        self.tau_max = tau_max
        self.tau_min = tau_min
        super().__init__(space, data, **kwargs)

    def _check(self):
        super()._check()
        check_number("tau_max", self.tau_max, minimum=0, min_open=True)
        check_number("tau_min", self.tau_min, minimum=0, min_open=True)
        if self.tau_min > self.tau_max:
            raise InvalidArgumentError(f"tau_min={self.tau_min!r} is above tau_max={self.tau_max!r}: the "
                                       "temperature falls from tau_max to tau_min")

    def tau(self, epoch: int) -> float:
        """The Gumbel-softmax temperature of ``epoch`` (from 0)."""
        if self.epochs <= 1:
            return float(self.tau_max)
        return self.tau_max - (self.tau_max - self.tau_min) * epoch / (self.epochs - 1)

    def _edge_weights(self, alpha, epoch, noise):
        import torch

        while True:  # GDAS resamples the rare draw that gives inf or NaN
            u = torch.rand(alpha.shape, generator=noise, device=alpha.device)
            gumbel = -torch.log(-torch.log(u.clamp_min(1e-20)))
            soft = torch.softmax((torch.log_softmax(alpha, -1) + gumbel) / self.tau(epoch), -1)
            if torch.isfinite(soft).all():
                break
        chosen = soft.detach().argmax(-1)
        hard = torch.zeros_like(soft).scatter_(-1, chosen[:, None], 1.0)
        return hard - soft.detach() + soft, chosen.tolist()


def unrolled_alpha_grad(net, edge_weights, alpha, train, val, *, lr, weights_opt=None, weight_decay=0.0,
                        r=0.01, hessian="finite-difference"):
    """DARTS's second-order gradient of the architecture loss with respect to ``alpha``.

    ``grad_alpha L_val(w', alpha) - lr * H v`` with ``w' = w - lr * (momentum * buffer + grad_w
    L_train(w, alpha) + weight_decay * w)``, ``v = grad_w' L_val(w', alpha)`` and the mixed second
    derivative ``H v = grad_alpha grad_w L_train(w, alpha) . v`` estimated by central differences
    at ``w +- eps * v``, ``eps = r / |v|`` (Liu et al., 2019, eq. 7-8). The weights and
    BatchNorm buffers of ``net`` are as they were when it returns.

    Parameters
    ----------
    net : Supernet
        Its ``forward_weighted`` is called with what ``edge_weights()`` returns.
    edge_weights : callable
        ``() -> (weights, chosen)`` built from ``alpha`` (with its graph).
    alpha : torch.Tensor
        The architecture parameters (``requires_grad``).
    train, val : tuple of torch.Tensor
        ``(x, y)`` minibatches: the weight half (the virtual step) and the architecture half.
    lr : float
        The weights' learning rate (of the virtual step and of the correction).
    weights_opt : torch.optim.SGD, optional
        Its momentum buffers and momentum enter the virtual step (none on the first step).
    weight_decay : float
        The weights' L2 penalty.
    r : float
        The finite-difference scale.
    hessian : {"finite-difference", "exact"}
        ``"exact"`` differentiates through the virtual step by double backpropagation
        (``torch.func.functional_call``) instead of estimating ``H v`` by finite differences.

    Returns
    -------
    (torch.Tensor, torch.Tensor)
        The gradient for ``alpha`` and the architecture loss at ``w'`` (detached).

    Examples
    --------
    >>> import torch, nasviz as nv
    >>> from nasviz.oneshot import Supernet
    >>> _ = torch.manual_seed(0)
    >>> net = Supernet(nv.CellSpace(), 10, 1, channels=2)
    >>> alpha = torch.zeros(6, 5, requires_grad=True)
    >>> x, y = torch.randn(8, 1, 4, 4), torch.arange(8) % 10
    >>> before = [p.clone() for p in net.parameters()]
    >>> g, loss = unrolled_alpha_grad(net, lambda: (torch.softmax(alpha, -1), None), alpha, (x, y), (x, y), lr=0.1)
    >>> g.shape, all(torch.equal(a, b) for a, b in zip(before, net.parameters()))
    (torch.Size([6, 5]), True)
    """
    import torch
    import torch.nn.functional as F

    if hessian not in HESSIANS:
        raise InvalidArgumentError(f"hessian must be 'finite-difference' or 'exact', got {hessian!r}")
    params = [p for p in net.parameters() if p.requires_grad]
    saved = [p.detach().clone() for p in params]
    buffers = [b.detach().clone() for b in net.buffers()]

    def loss_at(batch):
        weights, chosen = edge_weights()
        return F.cross_entropy(net.forward_weighted(batch[0], weights, chosen), batch[1])

    def set_weights(step=None, scale=0.0):
        with torch.no_grad():
            for k, p in enumerate(params):
                p.copy_(saved[k] if step is None else saved[k] + scale * step[k])

    momentum = weights_opt.param_groups[0].get("momentum", 0.0) if weights_opt is not None else 0.0

    def moment(p):
        buf = weights_opt.state.get(p, {}).get("momentum_buffer") if weights_opt is not None else None
        return momentum * buf if buf is not None and momentum else 0.0

    try:
        if hessian == "exact":
            from torch.func import functional_call

            names = [n for n, p in net.named_parameters() if p.requires_grad]
            grads = torch.autograd.grad(loss_at(train), params, create_graph=True, allow_unused=True)
            ahead = {n: p - lr * ((0.0 if g is None else g) + weight_decay * p + moment(p))
                     for n, p, g in zip(names, params, grads)}
            weights, chosen = edge_weights()
            with _forward_weighted(net):
                out = functional_call(net, ahead, (val[0], weights, chosen))
            val_loss = F.cross_entropy(out, val[1])
            grad = torch.autograd.grad(val_loss, alpha, allow_unused=True)[0]
            return (torch.zeros_like(alpha) if grad is None else grad.detach()), val_loss.detach()
        # the virtual step w' = w - lr * d
        grads = torch.autograd.grad(loss_at(train), params, allow_unused=True)
        step = [(torch.zeros_like(p) if g is None else g.detach()) + weight_decay * p.detach() + moment(p)
                for p, g in zip(params, grads)]
        set_weights(step, -lr)
        val_loss = loss_at(val)
        found = torch.autograd.grad(val_loss, [alpha, *params], allow_unused=True)
        d_alpha = torch.zeros_like(alpha) if found[0] is None else found[0]
        v = [torch.zeros_like(p) if g is None else g for p, g in zip(params, found[1:])]
        norm = torch.sqrt(sum((g * g).sum() for g in v))
        if float(norm) == 0.0:
            return d_alpha.detach(), val_loss.detach()
        eps = r / norm
        set_weights(v, eps)
        g_plus = torch.autograd.grad(loss_at(train), alpha, allow_unused=True)[0]
        set_weights(v, -eps)
        g_minus = torch.autograd.grad(loss_at(train), alpha, allow_unused=True)[0]
        if g_plus is None or g_minus is None:
            return d_alpha.detach(), val_loss.detach()
        hvp = (g_plus - g_minus) / (2 * eps)
        return (d_alpha - lr * hvp).detach(), val_loss.detach()
    finally:
        set_weights()
        with torch.no_grad():
            for b, old in zip(net.buffers(), buffers):
                b.copy_(old)


@contextlib.contextmanager
def _forward_weighted(net):
    """Within the block, ``net(x, weights, chosen)`` is ``net.forward_weighted(x, weights, chosen)``
    (``torch.func.functional_call`` calls a module's ``forward``)."""
    net.forward = net.forward_weighted
    try:
        yield net
    finally:
        del net.forward
