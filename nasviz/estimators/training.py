"""Training proxies: judge a candidate by actually training it, briefly.

Training every candidate to convergence is what NAS wants to avoid; the classic
cheap stand-ins are *lower fidelities* of the same training (Elsken, Metzen &
Hutter, "Neural Architecture Search: A Survey", 2019, section 5):

- fewer epochs (``epochs``, or ``fidelity=`` per call, as successive halving uses);
- lower-resolution images (``nv.data.digits(resolution=4)``);
- less data (``nv.data.digits(subset=0.25)``);
- a smaller network (``channels``, ``cells_per_stage``);
- weight inheritance (``inherit=True``): a child of a trained parent starts from the
  parent's weights (see :mod:`nasviz.estimators.inheritance`) and trains fewer epochs.

:meth:`Training.evaluate` trains one network with :func:`~nasviz.estimators.fit.fit_network`;
:meth:`Training.evaluate_many` trains many :class:`~nasviz.CellSpace` candidates at
once as one fused network (see :mod:`nasviz.estimators.fused` and
:mod:`nasviz.estimators.fused_fit`), which pays the per-step overhead once and keeps a
GPU busy; the result matches training them one at a time up to floating-point rounding.
"""

from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict

from ..devices import torch_threads
from ..errors import InvalidArgumentError, check_choice, check_positive_int
from ..validation import check_bool, check_seed
from .base import Estimator, Result
from .candidate import Candidate, build_seeded, prepare, to_result
from .chunks import chunk_size, run_in_halves
from .data_holder import DataHolder, check_data
from .fit import DEFAULT_LR, OPTIMIZERS, SCHEDULES, fit_network, lr_at, make_optimizer

__all__ = ["OPTIMIZERS", "SCHEDULES", "Training"]

CACHE_SIZE = 256  # trained parents kept for weight inheritance (least recently used dropped)


class Training(DataHolder, Estimator):
    """Train each candidate for a few epochs and report its validation accuracy.

    Parameters
    ----------
    data : nasviz.data.Data
        Train / validation / test tensors, e.g. ``nv.data.digits(resolution=8)``; its
        resolution and subset are the low-resolution and less-data proxies.
    space : Space, optional
        Builds the networks (``space.build(arch, num_classes, in_channels, channels=...,
        cells_per_stage=...)``, the last two only where ``build`` names them). Defaults to
        ``nv.CellSpace()``. Any space works; batched training needs CellSpace, other spaces
        are trained one at a time by :meth:`evaluate_many`.
    epochs : int
        Training epochs from scratch (``fidelity=`` overrides it per call).
    batch_size : int
        Minibatch size.
    lr : float, optional
        Peak learning rate; default 0.05 for SGD, 0.005 for Adam.
    optimizer : {"sgd", "adam"}
        SGD with Nesterov momentum 0.9, or Adam.
    weight_decay : float
        L2 penalty on every parameter.
    schedule : {"cosine", "constant"}
        Cosine decay of the learning rate to zero over the run, step by step, or constant.
    channels, cells_per_stage : int
        Width of the first stage and cells per stage, passed to ``space.build`` when it
        takes them (CellSpace does; MacroSpace's architectures fix their own widths).
    seed : int
        Seeds the weight initialisation and the minibatch order (``torch.Generator``);
        the same seed gives the same score on CPU with the same number of threads
        (another thread count sums in another order: the rounding differs, and a few
        epochs of training can turn that into a different last digit of accuracy).
    device : str
        ``"auto"`` (CUDA when present, else CPU), ``"cpu"``, ``"cuda"`` or ``"cuda:N"``.
        On CPU the current ``torch.get_num_threads()`` is respected.
    inherit : bool
        Weight inheritance: ``evaluate(arch, parent=p)`` starts from ``p``'s trained
        weights where units match, if this estimator trained ``p`` before (the last
        256 trained networks are kept), and trains ``inherit_epochs`` epochs.
    inherit_epochs : int, optional
        Epochs for an inheriting child (0 judges the inherited weights as they are);
        default half of the from-scratch epochs, at least 1.
    recalibrate_bn : int
        Before each evaluation, re-estimate BatchNorm's running statistics from this many
        training minibatches (the first ones, in a fixed order). An epoch of digits is only
        17 steps, too few for the running averages to follow the weights: without it a
        network that fits 66% of its minibatches after one epoch scores chance on
        validation. 0 keeps the running averages, as NAS-Bench-201 does.
    max_batch : int, optional
        Candidates per fused chunk in :meth:`evaluate_many`; default from an estimate of
        activation memory (at most 32 on CPU, within half the free memory on a GPU).
    threads : int, optional
        ``torch.set_num_threads`` during evaluation (restored afterwards); default:
        leave the current setting alone.

    Notes
    -----
    ``Result.score`` is the validation accuracy (a fraction) after the last epoch;
    ``Result.cost`` the seconds spent (in :meth:`evaluate_many`, a fused chunk's wall
    time divided by the number of candidates in it). ``Result.metrics`` holds
    ``val_acc``, ``test_acc``, the per-epoch ``val_curve``, ``test_curve``,
    ``train_curve`` (accuracy on the minibatches while training) and ``loss_curve``,
    ``train_loss`` (last epoch's mean), ``params``, ``flops`` (one forward pass of one
    image), ``epochs`` (trained), ``inherited`` and ``inherited_tensors``, ``batched``
    and ``device``. A candidate whose loss becomes NaN or infinite is a failed Result.

    Validation and test accuracy use evaluation mode (BatchNorm's running statistics,
    re-estimated first unless ``recalibrate_bn=0``).

    Examples
    --------
    >>> import nasviz as nv
    >>> data = nv.data.digits(resolution=4, subset=0.25)
    >>> est = nv.estimators.Training(data, epochs=1, channels=4, device="cpu")
    >>> est.fidelity
    '1 epoch, 4x4 images, 25% of the training data'
    >>> r = est.evaluate(nv.CellSpace().sample(seed=0))
    >>> 0.0 <= r.score <= 1.0, r.metrics["epochs"], len(r.metrics["val_curve"])
    (True, 1, 1)
    """

    def __init__(self, data, *, space=None, epochs: int = 4, batch_size: int = 64, lr: float | None = None,
                 optimizer: str = "sgd", weight_decay: float = 5e-4, schedule: str = "cosine", channels: int = 8,
                 cells_per_stage: int = 1, seed: int = 0, device: str = "auto", inherit: bool = False,
                 inherit_epochs: int | None = None, recalibrate_bn: int = 4, max_batch: int | None = None,
                 threads: int | None = None):
        self.data = data
        self.space = space
        self.epochs = epochs
        self.batch_size = batch_size
        self.lr = lr
        self.optimizer = optimizer
        self.weight_decay = weight_decay
        self.schedule = schedule
        self.channels = channels
        self.cells_per_stage = cells_per_stage
        self.seed = seed
        self.device = device
        self.inherit = inherit
        self.inherit_epochs = inherit_epochs
        self.recalibrate_bn = recalibrate_bn
        self.max_batch = max_batch
        self.threads = threads
        self._check()
        self._parents = OrderedDict()  # arch -> ParentWeights, least recently used first
        self._lock = threading.Lock()  # guards _parents when a Search runs evaluations in threads
        self._device_data = None
        self._default_space = None


    # -- arguments -------------------------------------------------------------------
    def _check(self):
        check_data(self.data)
        if self.space is not None and not callable(getattr(self.space, "build", None)):
            raise InvalidArgumentError(f"space must be a nasviz Space with a build() method, got {self.space!r}")
        check_positive_int("epochs", self.epochs)
        check_positive_int("batch_size", self.batch_size)
        check_positive_int("channels", self.channels)
        check_positive_int("cells_per_stage", self.cells_per_stage)
        check_choice("optimizer", self.optimizer, OPTIMIZERS)
        check_choice("schedule", self.schedule, SCHEDULES)
        if self.lr is not None and not (_is_number(self.lr) and 0 < self.lr < math.inf):
            raise InvalidArgumentError(f"lr must be a positive number (or None for the default), got {self.lr!r}")
        if not (_is_number(self.weight_decay) and 0 <= self.weight_decay < math.inf):
            raise InvalidArgumentError(f"weight_decay must be a number >= 0, got {self.weight_decay!r}")
        check_seed("seed", self.seed, allow_none=False)
        check_bool("inherit", self.inherit)
        if self.inherit_epochs is not None:
            check_positive_int("inherit_epochs", self.inherit_epochs, minimum=0)
        check_positive_int("recalibrate_bn", self.recalibrate_bn, minimum=0)
        if self.max_batch is not None:
            check_positive_int("max_batch", self.max_batch)
        if self.threads is not None:
            check_positive_int("threads", self.threads)
        self._resolved_device()

    def _resolved_device(self):
        import torch

        from ..devices import resolve_device

        return torch.device(resolve_device(self.device))

    @property
    def fidelity(self) -> str:
        """What a score stands for, e.g. ``'4 epochs, 8x8 images, 100% of the training data'``."""
        _, h, w = (tuple(self.data.X_train.shape[1:]) + (1, 1, 1))[:3]
        subset = float(getattr(self.data, "info", {}).get("subset", 1.0))
        epochs = f"{self.epochs} epoch{'s' if self.epochs != 1 else ''}"
        text = f"{epochs}, {h}x{w} images, {subset * 100:g}% of the training data"
        if self.inherit:
            k = self._inherit_epochs(self.epochs)
            text += f"; children of trained parents inherit weights and train {k} epoch{'s' if k != 1 else ''}"
        return text

    def _space(self):
        if self.space is not None:
            return self.space
        if self._default_space is None:
            from ..spaces import CellSpace

            self._default_space = CellSpace()
        return self._default_space

    def _epochs(self, fidelity) -> int:
        if fidelity is None:
            return self.epochs
        return check_positive_int("fidelity (epochs)", fidelity)

    def _inherit_epochs(self, epochs: int) -> int:
        return self.inherit_epochs if self.inherit_epochs is not None else max(1, epochs // 2)

    @property
    def effective_lr(self) -> float:
        """The learning rate in use (``lr`` or the optimizer's default)."""
        return float(self.lr) if self.lr is not None else DEFAULT_LR[self.optimizer]

    # -- building blocks -------------------------------------------------------------
    def _build_model(self, arch):
        """The candidate's network on CPU, initialised from ``seed`` (global RNG forked and restored)."""
        return build_seeded(self._space(), arch, seed=self.seed, num_classes=self.data.num_classes,
                            in_channels=self.data.X_train.shape[1], channels=self.channels,
                            cells_per_stage=self.cells_per_stage)

    def _prepare(self, cand: Candidate) -> Candidate:
        return prepare(cand, self._build_model(cand.arch), self.data.X_train.shape[1:])

    def _parent_weights(self, parent):
        if not self.inherit or parent is None:
            return None
        with self._lock:
            weights = self._parents.get(parent)
            if weights is not None:
                self._parents.move_to_end(parent)
        return weights

    def _remember(self, arch, model):
        if not self.inherit:
            return
        from .inheritance import snapshot

        weights = snapshot(model)
        with self._lock:
            self._parents[arch] = weights
            self._parents.move_to_end(arch)
            while len(self._parents) > CACHE_SIZE:
                self._parents.popitem(last=False)

    def _make_optimizer(self, params):
        return make_optimizer(params, self.optimizer, self.effective_lr, self.weight_decay)

    def _lr_at(self, step: int, total: int) -> float:
        return lr_at(step, total, self.effective_lr, self.schedule)

    def _fit_settings(self) -> dict:
        """The keyword arguments of :func:`~nasviz.estimators.fit.fit_network` and ``fit_fused``."""
        return {"batch_size": self.batch_size, "optimizer": self._make_optimizer, "lr_at": self._lr_at,
                "seed": int(self.seed), "recalibrate": self.recalibrate_bn}

    # -- one at a time ---------------------------------------------------------------
    def _train_one(self, cand: Candidate, epochs: int, prepared: float | None = None) -> Result:
        """Train ``cand``; ``prepared``: the seconds its :meth:`_prepare` already took (None: prepare it now)."""
        start = time.perf_counter() - (prepared or 0.0)
        if prepared is None:
            self._prepare(cand)
        data = self._data_on_device()
        model = cand.model.to(self._resolved_device())
        curves = fit_network(model, data, epochs=epochs, **self._fit_settings())
        if curves["failed_epoch"] < 0:
            self._remember(cand.arch, model)
        return to_result(cand, curves, epochs=epochs, cost=time.perf_counter() - start, batched=False,
                         device=str(self._resolved_device()))

    def evaluate(self, arch, *, parent=None, fidelity=None) -> Result:
        """Train ``arch`` (from ``parent``'s weights when inheriting) and return its Result; never raises
        for a failing candidate. A bad ``fidelity`` (not a positive number of epochs) raises."""
        self._epochs(fidelity)
        return super().evaluate(arch, parent=parent, fidelity=fidelity)

    def evaluate_one(self, arch, parent=None, fidelity=None) -> Result:
        epochs = self._epochs(fidelity)
        weights = self._parent_weights(parent)
        if weights is not None:
            epochs = self._inherit_epochs(epochs)
        with torch_threads(self.threads):
            return self._train_one(Candidate(0, arch, weights), epochs)

    def train_network(self, arch, *, fidelity=None):
        """Train ``arch`` as :meth:`evaluate` does and return ``(network, result)``: the trained network (on
        CPU, in evaluation mode) and its Result, e.g. to export it (:func:`nasviz.export`).

        A failing candidate raises :class:`~nasviz.errors.InvalidArgumentError` with the reason (there
        is no network to return).

        Examples
        --------
        >>> import nasviz as nv
        >>> est = nv.estimators.Training(nv.data.digits(resolution=4, subset=0.25), epochs=1, channels=2)
        >>> net, result = est.train_network(nv.CellSpace().sample(seed=0))
        >>> net.training, result.ok
        (False, True)
        """
        epochs = self._epochs(fidelity)
        arch = self._space().validate(arch)
        cand = Candidate(0, arch)
        with torch_threads(self.threads):
            result = self._train_one(cand, epochs)
        if not result.ok:
            raise InvalidArgumentError(f"training {str(arch)!r} failed: {result.error}")
        return cand.model.to("cpu").eval(), result

    # -- many at once ----------------------------------------------------------------
    def default_max_batch(self) -> int:
        """Candidates per fused chunk when ``max_batch`` is None (from an activation-memory estimate)."""
        from .fused_fit import activation_bytes

        per = activation_bytes(tuple(self.data.X_train.shape[1:]), channels=self.channels,
                               cells_per_stage=self.cells_per_stage, batch_size=self.batch_size)
        return chunk_size(per, self._resolved_device())

    def evaluate_many(self, archs, *, parents=None, fidelity=None) -> list[Result]:
        """Train many candidates at once; one Result each, in order.

        CellSpace candidates train together in fused chunks of ``max_batch`` (one network
        whose convolutions are grouped by candidate, see :mod:`nasviz.estimators.fused`):
        the same seeds, minibatches and updates as :meth:`evaluate`, so the scores agree
        up to floating-point rounding, while per-step overhead is paid once per chunk.
        Networks of other spaces train one at a time. Candidates that inherit weights
        train ``inherit_epochs`` and go in chunks of their own. Each ``cost`` is its
        chunk's wall time divided by the chunk size. A candidate whose loss turns NaN fails
        alone; a chunk that runs out of memory is retried in halves, down to single
        candidates, which then fail.

        Examples
        --------
        >>> import nasviz as nv
        >>> space = nv.CellSpace()
        >>> est = nv.estimators.Training(nv.data.digits(resolution=4, subset=0.25), epochs=1, channels=4,
        ...                              device="cpu")
        >>> results = est.evaluate_many([space.sample(seed=i) for i in range(3)])
        >>> [r.metrics["batched"] for r in results]
        [True, True, True]
        """
        return super().evaluate_many(archs, parents=parents, fidelity=fidelity)

    def evaluate_batch(self, archs, parents, fidelity=None) -> list[Result]:
        base = self._epochs(fidelity)
        results: list[Result | None] = [None] * len(archs)
        groups: dict[int, list[Candidate]] = {}
        for pos, (arch, parent) in enumerate(zip(archs, parents)):
            weights = self._parent_weights(parent)
            epochs = self._inherit_epochs(base) if weights is not None else base
            groups.setdefault(epochs, []).append(Candidate(pos, arch, weights))
        size = self.max_batch or self.default_max_batch()
        with torch_threads(self.threads):
            for epochs, cands in groups.items():
                for s in range(0, len(cands), size):
                    chunk = cands[s:s + size]
                    for cand, result in zip(chunk, self._run_chunk(chunk, epochs)):
                        results[cand.position] = result
        return results

    def _run_chunk(self, cands, epochs) -> list[Result]:
        """Train a chunk; out of memory -> retry in halves down to single candidates, then fail."""
        return run_in_halves(cands, lambda chunk: self._train_chunk(chunk, epochs),
                             lambda cand: self._safe_one(cand, epochs))

    def _safe_one(self, cand, epochs, prepared: float | None = None) -> Result:
        start = time.perf_counter()
        try:
            return self._train_one(cand.fresh() if prepared is None else cand, epochs, prepared)
        except (KeyboardInterrupt, SystemExit):
            raise
        except Exception as err:  # noqa: BLE001 - a failing candidate is recorded, the others go on
            return Result.failed(f"{type(err).__name__}: {err}", cost=time.perf_counter() - start)

    def _train_chunk(self, cands, epochs) -> list[Result]:
        """Train one chunk of candidates together in a fused network (one at a time if they cannot fuse)."""
        from .fused import fusable
        from .fused_fit import fit_together

        start = time.perf_counter()
        ready, results, seconds = [], {}, {}
        for cand in cands:
            built = time.perf_counter()
            try:
                ready.append(self._prepare(cand.fresh()))
            except Exception as err:  # noqa: BLE001 - e.g. an architecture from another space: it fails alone
                results[cand.position] = Result.failed(f"{type(err).__name__}: {err}")
            seconds[cand.position] = time.perf_counter() - built
        if ready and not fusable([c.model for c in ready]):
            for cand in ready:  # trained one at a time with the networks just built (and counted)
                results[cand.position] = self._safe_one(cand, epochs, prepared=seconds[cand.position])
        elif ready:
            curves = fit_together([c.model for c in ready], self._data_on_device(), self._resolved_device(),
                                  epochs=epochs, write_back=self.inherit, **self._fit_settings())
            cost = (time.perf_counter() - start) / len(ready)
            for cand, mine in zip(ready, curves):
                if mine["failed_epoch"] < 0:
                    self._remember(cand.arch, cand.model)
                results[cand.position] = to_result(cand, mine, epochs=epochs, cost=cost, batched=True,
                                                   device=str(self._resolved_device()))
        return [results[c.position] for c in cands]


def _is_number(x) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool)
