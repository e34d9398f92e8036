"""Zero-cost proxies: judge an untrained network from one minibatch (or none).

A zero-cost proxy builds the candidate network at initialisation and computes one
number from its weights, its gradients on a single minibatch, or its activations,
in milliseconds instead of minutes of training. Higher means "predicted better".
How well each proxy's ranking agrees with trained accuracy is an empirical
question (``benchmarks/zero_cost.py`` measures it on ``digits201``; on
NAS-Bench-201's CIFAR-10, Abdelfattah et al. report a Spearman correlation of about
0.74 for ``synflow``).

The proxies (see :data:`PROXIES` for each one's paper and what it measures) follow
Abdelfattah et al., "Zero-Cost Proxies for Lightweight NAS", ICLR 2021, and their
reference code: the network is in training mode, the loss is cross-entropy, and
per-weight scores are summed over every ``Conv2d`` and ``Linear`` weight.

**Degenerate networks.** A network whose output does not depend on its input (a
cell whose input never reaches its output: the output is the same for every
image) makes several proxies zero or undefined, and ``naswot`` would still reward
activations on branches that lead nowhere. nasviz gives such a network the
proxy's *floor*, the lowest value the proxy can take, so that it stays finite and
ranks last, and flags it with ``metrics["degenerate"] = True``: 0 for ``snip``,
``grad_norm``, ``fisher`` and ``naswot`` (every non-singular ``naswot`` kernel
scores >= 0; a singular one, log-determinant minus infinity, also gets 0), and
the all-correlated value for ``jacob_cov``. ``synflow`` (data-free) is flagged when
its flow is exactly zero, its floor. ``grasp`` is flagged but keeps its value (it
may be negative: it has no floor). Such a result is ``ok``, never failed.

Examples
--------
>>> import nasviz as nv
>>> data = nv.data.digits()
>>> est = nv.estimators.ZeroCost("naswot", data, batch_size=16)
>>> space = nv.CellSpace()
>>> good = est.evaluate(space.from_string(
...     "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_3x3~2|"))
>>> dead = est.evaluate(space.from_ops(["none"] * 6))
>>> good.score > dead.score, dead.score, dead.metrics["degenerate"]
(True, 0.0, True)
"""

from __future__ import annotations

import inspect
import threading
import time

import numpy as np

from ..errors import InvalidArgumentError, ShapeError, check_choice, check_positive_int
from ..validation import check_seed
from .base import Estimator, Result

__all__ = ["PROXIES", "ZeroCost"]

#: proxy name -> (paper, what it measures). Higher is predicted better for every one.
PROXIES = {
    "synflow": (
        ("Tanaka et al., 'Pruning neural networks without any data by iteratively conserving synaptic flow', "
         "NeurIPS 2020"),
        ("sum over weights of |theta * dR/dtheta|, R = sum of the outputs of the network with absolute weights, "
         "batch normalisation bypassed and an all-ones input, in double precision: how much signal the weights "
         "carry from input to output; uses no data")),
    "naswot": (
        "Mellor et al., 'Neural Architecture Search without Training', ICML 2021",
        ("log-determinant of K = C C^T + (1-C)(1-C)^T, C the minibatch's binary activation codes (which side of "
         "zero each ReLU input is on): how differently the untrained network carves up the images")),
    "jacob_cov": (
        "Mellor et al., 'Neural Architecture Search without Training', arXiv:2006.04647v1, 2020",
        ("-sum(log(v + k) + 1/(v + k)), k = 1e-5, over the eigenvalues v of the correlation matrix of the "
         "images' input gradients of the summed output: high when images get uncorrelated Jacobians")),
    "snip": (
        "Lee et al., 'SNIP: Single-shot network pruning based on connection sensitivity', ICLR 2019",
        ("sum over weights of |theta * dL/dtheta|, L the minibatch loss: how much the loss would change if the "
         "weights were removed")),
    "grad_norm": (
        "Abdelfattah et al., 'Zero-Cost Proxies for Lightweight NAS', ICLR 2021",
        ("sum over layers of the L2 norm of the gradient of the minibatch loss with respect to the layer's "
         "weights")),
    "fisher": (
        ("Theis et al., 'Faster gaze prediction with dense networks and Fisher pruning', 2018; Turner et al., "
         "'BlockSwap', ICLR 2020"),
        ("per output channel, 0.5 * mean over images of (sum over pixels of activation * dL/dactivation)^2, "
         "spread over the channel's weights and summed: how much the loss would change if channels were removed")),
    "grasp": (
        "Wang et al., 'Picking winning tickets before training by preserving gradient flow', ICLR 2020",
        ("sum over weights of -theta * (H g), H the Hessian and g the gradient of the minibatch loss: how removing "
         "weights would change gradient flow (sign as in the reference code, so that higher is better)")),
    "params": ("baseline", "number of trainable parameters (nasviz.count_params)"),
    "flops": ("baseline", "floating-point operations of a forward pass of one image (nasviz.count_flops)"),
}

_DATA_FREE = ("synflow", "params", "flops")
# building seeds torch's global generator inside fork_rng (nn.Module initialisers draw from it): one
# evaluation at a time per process, so that concurrent threads neither interleave draws nor see them
_SEEDED = threading.Lock()


class ZeroCost(Estimator):
    """Score an architecture by a zero-cost proxy of its network at initialisation.

    Parameters
    ----------
    name : str
        The proxy: one of :meth:`available` (``synflow``, ``naswot``, ``jacob_cov``,
        ``snip``, ``grad_norm``, ``fisher``, ``grasp``, ``params``, ``flops``).
    data : nasviz.data.Data
        Where the minibatch comes from (its training part) and what fixes the input
        shape and the number of classes.
    batch_size : int
        Images in the minibatch (>= 2). It is drawn once, seeded, from the distinct
        training images, and reused for every architecture.
    channels, cells_per_stage : int
        Size of the network that ``space.build`` makes (passed only to spaces whose
        ``build`` takes them, such as :class:`~nasviz.CellSpace`).
    space : Space or None
        The space whose ``build`` makes the network; ``None`` means ``nv.CellSpace()``.
    seed : int
        Seeds the minibatch and the initial weights (an integer >= 0): same seed, same
        score. The global torch random state is left untouched.
    device : str
        ``"cpu"``, ``"cuda"``, ``"cuda:N"``, a ``torch.device`` or ``"auto"`` (CUDA when
        available); anything else, or CUDA on a machine without it, is refused here.

    Notes
    -----
    ``evaluate`` returns ``Result(score=proxy value, cost=measured seconds,
    metrics={"proxy", "params", "batch_size", "degenerate"[, "flops"]})``; the
    ``fidelity`` argument of ``evaluate`` is ignored (a proxy has no budget).
    :meth:`scores` computes several proxies of one network from shared passes.

    Examples
    --------
    >>> import nasviz as nv
    >>> est = nv.estimators.ZeroCost("synflow", nv.data.digits(), seed=0)
    >>> arch = nv.CellSpace().sample(seed=0)
    >>> r = est.evaluate(arch)
    >>> r.ok, r.score == est.evaluate(arch).score, r.metrics["proxy"]
    (True, True, 'synflow')
    >>> est.fidelity
    'zero-cost: synflow at initialisation (data-free, 8 channels)'
    >>> sorted(est.scores(arch, ["params", "snip"]))
    ['params', 'snip']
    """

    def __init__(self, name, data, *, batch_size=64, channels=8, cells_per_stage=1, space=None, seed=0,
                 device="cpu"):
        self.name = name
        self.data = data
        self.batch_size = batch_size
        self.channels = channels
        self.cells_per_stage = cells_per_stage
        self.space = space
        self.seed = seed
        self.device = device
        check_choice("zero-cost proxy", name, PROXIES)
        _check_data(data)
        check_positive_int("batch_size", batch_size, minimum=2)
        if batch_size > len(data.y_train):
            raise InvalidArgumentError(f"batch_size={batch_size} exceeds the {len(data.y_train)} training images; "
                                       f"use batch_size <= {len(data.y_train)}")
        check_positive_int("channels", channels)
        check_positive_int("cells_per_stage", cells_per_stage)
        if space is not None and not hasattr(space, "build"):
            raise InvalidArgumentError(f"space must be a nasviz Space (e.g. nv.CellSpace()), got {space!r}")
        check_seed("seed", seed)
        from ..devices import resolve_device

        resolve_device(device)  # an unknown device, or CUDA without a GPU, fails now, naming the accepted ones
        self._prepared = None

    @staticmethod
    def available() -> tuple[str, ...]:
        """The proxy names, in :data:`PROXIES` order."""
        return tuple(PROXIES)

    @property
    def fidelity(self) -> str:
        if self.name in ("params", "flops"):
            return f"zero-cost: {self.name} of the network ({self.channels} channels)"
        what = "data-free" if self.name == "synflow" else f"{self.batch_size} images"
        return f"zero-cost: {self.name} at initialisation ({what}, {self.channels} channels)"

    # -- internals ------------------------------------------------------------------
    def _prepare(self):
        """The minibatch on the device, and the seed of the initial weights (computed once)."""
        if self._prepared is None:
            import torch

            if self.device == "auto":
                device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
            else:
                device = torch.device(self.device)
            rng = np.random.default_rng(self.seed)
            X, y = self.data.X_train, self.data.y_train
            flat = np.asarray(X.detach().cpu().reshape(len(X), -1))
            _, first = np.unique(flat, axis=0, return_index=True)  # distinct images only: duplicates
            if len(first) < 2:                                    # would make naswot's kernel singular
                raise ShapeError(f"zero-cost proxies need at least 2 distinct training images; data has "
                                 f"{len(first)} (at resolution {self.data.input_shape[-1]})")
            n = min(self.batch_size, len(first))
            idx = np.sort(rng.choice(np.sort(first), size=n, replace=False))
            pick = torch.as_tensor(idx, dtype=torch.int64)
            inputs = X[pick].detach().to(device=device, dtype=torch.float32)
            targets = y[pick].detach().to(device=device, dtype=torch.int64)
            init_seed = int(rng.integers(2**62))
            self._prepared = (device, inputs, targets, init_seed)
        return self._prepared

    def _build(self, arch):
        from ..spaces import CellSpace

        space = CellSpace() if self.space is None else self.space
        kwargs = {}
        params = inspect.signature(space.build).parameters
        for key in ("channels", "cells_per_stage"):
            if key in params and params[key].kind in (inspect.Parameter.KEYWORD_ONLY,
                                                      inspect.Parameter.POSITIONAL_OR_KEYWORD):
                kwargs[key] = getattr(self, key)
        return space.build(arch, num_classes=self.data.num_classes, in_channels=self.data.in_channels, **kwargs)

    def _compute(self, arch, names):
        """(values, degenerate flags, params, batch size) for ``names`` on a freshly built network."""
        import torch

        from . import _proxies

        device, inputs, targets, init_seed = self._prepare()
        names = list(dict.fromkeys(names))
        for n in names:
            check_choice("zero-cost proxy", n, PROXIES)
        fork = [device.index if device.index is not None else torch.cuda.current_device()] \
            if device.type == "cuda" else []
        with _SEEDED, torch.random.fork_rng(devices=fork):
            torch.default_generator.manual_seed(init_seed)
            if device.type == "cuda":
                torch.cuda.manual_seed(init_seed)
            net = self._build(arch)
            if device.type != "cpu":
                net = net.to(device)
            from ..model_stats import count_params

            params = count_params(net)
            try:
                values, degenerate = _proxies.compute(net, names, inputs, targets)
            except RuntimeError as err:
                if "size" in str(err) or "shape" in str(err):
                    raise ShapeError(f"the network built for {arch} does not accept images of shape "
                                     f"{tuple(inputs.shape[1:])}: {err}") from err
                raise
        return values, degenerate, params, int(inputs.shape[0])

    def scores(self, arch, names=None) -> dict:
        """Several proxies of ``arch``'s network at once, from shared passes.

        One network is built (the same one :meth:`evaluate` builds); the minibatch
        proxies share one forward and one backward pass and ``synflow`` runs last.
        Raises for a bad architecture or name (unlike :meth:`evaluate`).

        Parameters
        ----------
        names : sequence of str or None
            Proxies to compute; ``None`` means all of :meth:`available`.

        Returns
        -------
        dict
            name -> score, in the order asked; degenerate networks get the floors
            described in the module docstring.
        """
        names = self.available() if names is None else ([names] if isinstance(names, str) else list(names))
        values, _, _, _ = self._compute(arch, names)
        return values

    def evaluate_one(self, arch, parent=None, fidelity=None) -> Result:
        start = time.perf_counter()
        values, degenerate, params, n = self._compute(arch, [self.name])
        metrics = {"proxy": self.name, "params": params,
                   "batch_size": 0 if self.name in _DATA_FREE else n,
                   "degenerate": bool(degenerate[self.name])}
        if self.name == "flops":
            metrics["flops"] = int(values["flops"])
        return Result(score=float(values[self.name]), cost=time.perf_counter() - start, metrics=metrics)


def _check_data(data):
    try:
        X, y, k = data.X_train, data.y_train, data.num_classes
    except AttributeError:
        raise InvalidArgumentError(
            f"data must be a nasviz.data.Data, e.g. nv.data.digits() or nv.data.from_tensors(X, y); got {data!r}"
        ) from None
    shape = tuple(getattr(X, "shape", ()))
    if len(shape) != 4 or not hasattr(X, "reshape"):
        raise ShapeError(f"data.X_train must be a tensor of images shaped (N, C, H, W), got shape {shape}")
    yshape = tuple(getattr(y, "shape", ()))
    if len(yshape) != 1 or yshape[0] != shape[0]:
        raise ShapeError(f"data.y_train must hold one label per training image ({shape[0]}), got shape {yshape}")
    if shape[0] < 2 or min(shape[1:]) < 1:
        raise ShapeError(f"data needs at least 2 non-empty training images, got X_train of shape {shape}")
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
        raise InvalidArgumentError(f"data.num_classes must be a positive integer, got {k!r}")
