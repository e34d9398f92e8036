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
may be negative: it has no floor). ``meco``, ``zico`` and ``swap`` get 0. Such a result
is ``ok``, never failed.

**Later proxies** (2023-2024): ``meco`` (feature-map correlation of one image, forward
only), ``zico`` (gradient statistics over two half-minibatches) and ``swap`` (distinct
sample-wise activation patterns), each checked against its reference code; see
:data:`PROXIES` and the modules ``_feature_maps``, ``_gradients`` and ``_activation_codes``
for the conventions chosen where the papers leave one open.

**Population proxies.** ``vote`` (Abdelfattah et al.'s majority vote of synflow,
jacob_cov and snip), ``ensemble`` (AZ-NAS's sum of log-ranks, over meco, zico, swap and
flops) and ``swap_reg`` (SWAP regularised by the network's size relative to others) rank a
candidate among other cells, so they need a population. A search tells a strategy one
score at a time and compares scores told at different times, so nasviz ranks each
candidate against a fixed *reference sample*: ``reference`` cells drawn from the space
with the estimator's seed and scored once, with the same minibatch and initial weights,
on the first call that needs them. A candidate's score is then defined on its own, the same
in ``evaluate``, ``evaluate_many``, a Search or ProxyLab, whatever was evaluated before;
its resolution is one reference cell (``vote`` takes ``reference + 1`` values). The papers
rank the evaluated set among itself; :meth:`ZeroCost.scores_many` with
``population="batch"`` does that for a sample (a benchmark's), where the score of a cell
depends on the others in the batch (:func:`population_scores` does the same from scores
already computed). A population proxy is degenerate when all its members that can be
are, and then gets its floor: 0 for ``vote`` and ``swap_reg``, ``4 * log(1 / (reference +
1))`` (last on each of its four members) for ``ensemble``; a cell that is not degenerate
may reach the floor too (``vote`` 0: it beats no reference cell).

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
from . import _ranking
from ._registry import PROXIES
from .base import Estimator, Result

__all__ = ["PROXIES", "ZeroCost", "population_scores"]

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
        ``snip``, ``grad_norm``, ``fisher``, ``grasp``, ``params``, ``flops``, ``meco``,
        ``zico``, ``swap``, and the population proxies ``swap_reg``, ``vote``, ``ensemble``).
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
        Seeds the minibatch, the initial weights and the reference sample (an integer
        >= 0): same seed, same score. The global torch random state is left untouched.
    device : str
        ``"cpu"``, ``"cuda"``, ``"cuda:N"``, a ``torch.device`` or ``"auto"`` (CUDA when
        available); anything else, or CUDA on a machine without it, is refused here.
    reference : int
        Cells of the seeded reference sample that the population proxies (``swap_reg``,
        ``vote``, ``ensemble``) rank a candidate against (>= 2); scored once, when first
        needed (that call's cost includes it). Unused by the other proxies.

    Notes
    -----
    ``evaluate`` returns ``Result(score=proxy value, cost=measured seconds,
    metrics={"proxy", "params", "batch_size", "degenerate"[, "flops"][, "reference",
    "members"]})``; the ``fidelity`` argument of ``evaluate`` is ignored (a proxy has no
    budget). :meth:`scores` computes several proxies of one network from shared passes;
    :meth:`scores_many` scores many architectures, and can rank the population proxies
    within them instead of against the reference sample.

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
                 device="cpu", reference=64):
        self.name = name
        self.data = data
        self.batch_size = batch_size
        self.channels = channels
        self.cells_per_stage = cells_per_stage
        self.space = space
        self.seed = seed
        self.device = device
        self.reference = reference
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
        check_positive_int("reference", reference, minimum=2)
        self._prepared = None
        self._reference = None

    @staticmethod
    def available() -> tuple[str, ...]:
        """The proxy names, in :data:`PROXIES` order."""
        return tuple(PROXIES)

    @property
    def fidelity(self) -> str:
        if self.name in ("params", "flops"):
            return f"zero-cost: {self.name} of the network ({self.channels} channels)"
        what = "data-free" if self.name == "synflow" else f"{self.batch_size} images"
        against = f", against {self.reference} reference cells" if self.name in _ranking.POPULATION_PROXIES else ""
        return f"zero-cost: {self.name} at initialisation ({what}, {self.channels} channels{against})"

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

    def _space(self):
        from ..spaces import CellSpace

        return CellSpace() if self.space is None else self.space

    def _build(self, arch):
        space = self._space()
        kwargs = {}
        params = inspect.signature(space.build).parameters
        for key in ("channels", "cells_per_stage"):
            if key in params and params[key].kind in (inspect.Parameter.KEYWORD_ONLY,
                                                      inspect.Parameter.POSITIONAL_OR_KEYWORD):
                kwargs[key] = getattr(self, key)
        return space.build(arch, num_classes=self.data.num_classes, in_channels=self.data.in_channels, **kwargs)

    def _names(self, names) -> list:
        names = self.available() if names is None else ([names] if isinstance(names, str) else list(names))
        names = list(dict.fromkeys(names))
        for n in names:
            check_choice("zero-cost proxy", n, PROXIES)
        return names

    def _network_values(self, arch, names):
        """(values, degenerate flags, params, batch size) for network proxies ``names`` on a fresh network."""
        import torch

        from . import _proxies

        device, inputs, targets, init_seed = self._prepare()
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

    def reference_archs(self) -> list:
        """The reference sample the population proxies rank against: ``reference`` seeded draws from the space."""
        if self._reference is None:
            seeds = np.random.default_rng([self.seed, 1]).integers(2**31, size=self.reference)
            space = self._space()
            self._reference = ([space.sample(seed=int(s)) for s in seeds], {})
        return list(self._reference[0])

    def _reference_values(self, names) -> dict:
        """name -> array over the reference sample, for network proxies ``names`` (each scored once)."""
        archs = self.reference_archs()
        cache = self._reference[1]
        missing = [n for n in names if n not in cache]
        if missing:
            rows = [self._network_values(a, missing)[0] for a in archs]
            for n in missing:
                cache[n] = np.array([r[n] for r in rows], dtype=float)
        return {n: cache[n] for n in names}

    def _compute(self, arch, names):
        """(values, degenerate flags, params, batch size) for ``names`` and the network proxies they build on."""
        population = [n for n in names if n in _ranking.POPULATION_PROXIES]
        ref = self._reference_values(_ranking.members(population)) if population else None
        values, degenerate, params, n = self._network_values(arch, _ranking.members(names))
        for name in population:
            parts = _ranking.POPULATION_PROXIES[name]
            v, d = _ranking.aggregate(name, {m: [values[m]] for m in parts}, {m: [degenerate[m]] for m in parts}, ref)
            values[name], degenerate[name] = float(v[0]), bool(d[0])
        return values, degenerate, params, n

    def scores(self, arch, names=None) -> dict:
        """Several proxies of ``arch``'s network at once, from shared passes.

        One network is built (the same one :meth:`evaluate` builds); the minibatch
        proxies share one forward and one backward pass, ``meco`` and ``zico`` make
        their own, ``synflow`` runs last; population proxies are ranked against the
        reference sample. Raises for a bad architecture or name (unlike :meth:`evaluate`).

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
        names = self._names(names)
        values = self._compute(arch, names)[0]
        return {n: values[n] for n in names}

    def scores_many(self, archs, names=None, *, population="reference") -> dict:
        """Proxies of many architectures: name -> array over ``archs``, in the order asked.

        Parameters
        ----------
        archs : sequence of Architecture
        names : sequence of str or None
            Proxies to compute; ``None`` means all of :meth:`available`.
        population : {"reference", "batch"}
            What the population proxies rank a candidate against: the reference sample
            (the scores :meth:`scores` and :meth:`evaluate` give), or the other ``archs``
            (the papers' definition over an evaluated set: a cell's score then depends on
            the batch; needs at least 2 architectures). Other proxies are the same either way.

        Raises for a bad architecture or name, like :meth:`scores`.
        """
        names = self._names(names)
        check_choice("population", population, ("reference", "batch"))
        archs = list(archs)
        pop_names = [n for n in names if n in _ranking.POPULATION_PROXIES]
        if population == "batch" and pop_names and len(archs) < 2:
            raise InvalidArgumentError(f"population='batch' ranks the architectures among themselves and needs at "
                                       f"least 2, got {len(archs)}; use population='reference' for one")
        ref = None
        if population == "reference" and pop_names:
            ref = self._reference_values(_ranking.members(pop_names))
        rows = [self._network_values(a, _ranking.members(names)) for a in archs]
        values = {m: np.array([r[0][m] for r in rows], dtype=float) for m in _ranking.members(names)}
        flags = {m: np.array([r[1][m] for r in rows], dtype=bool) for m in _ranking.members(names)}
        out = {}
        for name in names:
            out[name] = _ranking.aggregate(name, values, flags, ref)[0] if name in pop_names else values[name]
        return out

    def evaluate_one(self, arch, parent=None, fidelity=None) -> Result:
        start = time.perf_counter()
        values, degenerate, params, n = self._compute(arch, [self.name])
        metrics = {"proxy": self.name, "params": params,
                   "batch_size": 0 if self.name in _DATA_FREE else n,
                   "degenerate": bool(degenerate[self.name])}
        if self.name == "flops":
            metrics["flops"] = int(values["flops"])
        if self.name in _ranking.POPULATION_PROXIES:
            metrics["reference"] = self.reference
            metrics["members"] = {m: float(values[m]) for m in _ranking.POPULATION_PROXIES[self.name]}
        return Result(score=float(values[self.name]), cost=time.perf_counter() - start, metrics=metrics)


def population_scores(name, values, degenerate=None, population=None):
    """Population proxy ``name`` (``swap_reg``, ``vote``, ``ensemble``) from its members' scores.

    For scores already computed (a benchmark's, a ProxyLab-style sample's):
    ``values`` maps each member (``ZeroCost.scores`` names) to an array over the
    candidates, ``degenerate`` (optional) their ``metrics["degenerate"]`` flags;
    ``population`` maps each member to an array over the cells to rank against, or is
    None to rank the candidates among themselves (what ``scores_many(...,
    population="batch")`` gives). Returns an array over the candidates.

    Examples
    --------
    >>> population_scores("ensemble", {"meco": [1, 2], "zico": [1, 2], "swap": [1, 2], "flops": [1, 2]})
    array([-2.77258872,  0.        ])
    """
    check_choice("population proxy", name, _ranking.POPULATION_PROXIES)
    parts = _ranking.POPULATION_PROXIES[name]
    missing = [m for m in parts if m not in values or (population is not None and m not in population)]
    if missing:
        raise InvalidArgumentError(f"{name} is built on {', '.join(parts)}; missing scores of {', '.join(missing)}")
    n = len(values[parts[0]])
    flags = {m: np.zeros(n, dtype=bool) if degenerate is None or m not in degenerate else degenerate[m]
             for m in parts}
    return _ranking.aggregate(name, values, flags, population)[0]


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
