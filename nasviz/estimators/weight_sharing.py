"""Weight sharing: one supernet trained once, every cell judged with the weights of its path.

Training every candidate from scratch is what makes NAS expensive. One-shot methods train a
single *supernet* that contains every cell of the space as a path (:mod:`nasviz.oneshot`),
once, and then judge any cell by running its path with the shared weights: seconds instead
of a training run per candidate (Bender et al., "Understanding and Simplifying One-Shot
Architecture Search", ICML 2018; Guo et al., SPOS, ECCV 2020; Chu et al., FairNAS, ICCV 2021).
The price is the ranking: shared weights are a compromise between all the cells that use
them, and how well a supernet's ranking agrees with stand-alone training is an empirical
question. Studies on NAS-Bench-201 (Yu et al., "How to Train Your Super-Net", arXiv
2003.04276; Ning et al., "Evaluating Efficient Performance Estimators of Neural
Architectures", NeurIPS 2021; Zhang et al., "How Does Weight Sharing Help in Neural
Architecture Search?", arXiv 2010.08219) find it weak and strongly dependent on how the
supernet is trained; ``benchmarks/weight_sharing.py`` measures it on nasviz's own tables.

:class:`WeightSharing` trains its supernet lazily, on the first evaluation (or when
:meth:`~WeightSharing.train_supernet` is called), and reuses it for every evaluation after.
A cell is judged on a copy of its path (``supernet.network(arch)``): BatchNorm statistics
re-estimated for that path, optionally a few fine-tuning steps on the copy, then validation
accuracy. The shared weights never change after training, so a cell's score does not depend
on which cells were judged before it.
"""

from __future__ import annotations

import math
import os
import threading
import time
from pathlib import Path

from ..errors import InvalidArgumentError, InvalidFileError, check_choice, check_positive_int
from ..oneshot import SAMPLINGS, make_sampler, train_supernet
from ..spaces.cell import CellSpace
from ..validation import check_bool, check_number, check_seed
from .base import Estimator, Result
from .candidate import _BUILD_LOCK
from .data_holder import DataHolder, check_data
from .fit import DEFAULT_LR, OPTIMIZERS, SCHEDULES, accuracy, lr_at, make_optimizer, recalibrate_bn

__all__ = ["FILE_FORMAT", "WeightSharing"]

#: What :meth:`WeightSharing.save` writes under ``"format"`` (and :meth:`WeightSharing.load` checks).
FILE_FORMAT = "nasviz.WeightSharing supernet"
_FILE_VERSION = 1
# the settings that shape the supernet's weights, as recorded in a saved file (evaluation settings
# such as bn_batches, finetune_steps and device are free to differ)
_SHAPING = ("space", "data", "channels", "cells_per_stage", "epochs", "batch_size", "lr", "optimizer",
            "weight_decay", "schedule", "sampling", "train_none", "seed")


class WeightSharing(DataHolder, Estimator):
    """Judge every cell with the weights of one supernet, trained once.

    Parameters
    ----------
    data : nasviz.data.Data
        Train / validation / test tensors, e.g. ``nv.data.digits()``. The supernet trains on
        the training part; cells are scored on the validation part.
    space : CellSpace, optional
        The cells of the supernet; default ``nv.CellSpace()``.
    channels, cells_per_stage : int
        Width of the first stage and cells per stage of the supernet (and of every network
        extracted from it), as for ``CellSpace.build``.
    epochs : int
        Epochs of supernet training (0: judge cells with the initial weights). One path per
        minibatch step, so each op sees about ``1 / len(space.ops)`` of the steps: a supernet
        wants more epochs than one network.
    batch_size : int
        Minibatch size of supernet training, fine-tuning and BatchNorm re-estimation.
    lr : float, optional
        Peak learning rate; default 0.05 for SGD, 0.005 for Adam.
    optimizer : {"sgd", "adam"}
        SGD with Nesterov momentum 0.9, or Adam (as :class:`~nasviz.estimators.Training`).
    weight_decay : float
        L2 penalty (on the weights of the path trained at each step).
    schedule : {"cosine", "constant"}
        Learning rate over the supernet's training, step by step.
    sampling : {"uniform", "fair"}
        Which path trains at each step: SPOS's uniform single-path sampling, or FairNAS's
        fair sampling (over every block of ``len(ops)`` steps each op is on every edge once);
        see :mod:`nasviz.oneshot.sampling`.
    train_none : bool
        Whether training paths may carry ``none`` (default True, as SPOS samples every op of
        its space). Cells with ``none`` are judged either way. Leaving it out can rank better
        or worse, by task: ``benchmarks/weight_sharing.py`` measures both.
    bn_batches : int
        BatchNorm running statistics of each cell's path are reset and re-estimated from this
        many training minibatches (the first ones, in a fixed order) before it is judged. The
        supernet's own running averages mix every path trained; 0 keeps them anyway.
    finetune_steps : int
        Optimizer steps of fine-tuning on the cell's copy (the shared weights never change),
        learning rate ``lr`` decayed by a cosine to zero over the steps, minibatches in an order
        drawn from ``seed``. 0: none.
    seed : int
        Seeds the supernet's initial weights, the paths sampled (a ``numpy.random.Generator``)
        and the minibatch order (a ``torch.Generator``): the same seed gives the same supernet
        and the same scores on the same machine and number of threads.
    device : str
        ``"cpu"``, ``"cuda"``, ``"cuda:N"`` or ``"auto"``.
    supernet : str or path, optional
        A file written by :meth:`save`: its trained supernet is used instead of training one.
        The settings that shaped it (everything above but ``bn_batches``, ``finetune_steps``
        and ``device``) must match; :meth:`load` takes them from the file.

    Notes
    -----
    ``Result.score`` is the validation accuracy of the cell's path; ``Result.cost`` the
    seconds of that evaluation (extracting the path, BatchNorm re-estimation, fine-tuning,
    validation), not including the supernet's one-off training, which every result reports
    as ``metrics["supernet_seconds"]`` (also :attr:`supernet_seconds`). ``Result.metrics``
    also holds ``val_acc``, ``test_acc``, ``params`` (of the cell's network), ``connected``,
    ``sampling``, ``supernet_epochs``, ``bn_batches``, ``finetune_steps`` and ``device``.
    ``parent`` and ``fidelity`` are ignored. A cell whose input never reaches its output
    (``space.is_disconnected``) gets a constant output, and so about chance accuracy, as
    stand-alone training gives it; it is not a failure.

    A supernet whose loss becomes NaN or infinite fails every evaluation, with the reason.
    Evaluations may run in threads (the training happens once, under a lock); worker
    processes each train their own copy unless the supernet is trained (or loaded) before
    the estimator is sent to them.

    Examples
    --------
    >>> import nasviz as nv
    >>> data = nv.data.digits(resolution=4, subset=0.25)
    >>> est = nv.estimators.WeightSharing(data, channels=2, epochs=1, seed=0)
    >>> est.fidelity
    'weight sharing: a supernet trained 1 epoch with uniform paths, 4x4 images; BN re-estimated per cell'
    >>> space = nv.CellSpace()
    >>> r = est.evaluate(space.sample(seed=0))
    >>> r.ok, 0.0 <= r.score <= 1.0, r.metrics["supernet_seconds"] == est.supernet_seconds
    (True, True, True)
    >>> est.evaluate(space.sample(seed=0)).score == r.score      # the supernet trained once
    True
    """

    def __init__(self, data, *, space=None, channels: int = 8, cells_per_stage: int = 1, epochs: int = 20,
                 batch_size: int = 64, lr: float | None = None, optimizer: str = "sgd", weight_decay: float = 5e-4,
                 schedule: str = "cosine", sampling: str = "uniform", train_none: bool = True, bn_batches: int = 4,
                 finetune_steps: int = 0, seed: int = 0, device: str = "cpu", supernet=None):
        self.data = data
        self.space = space
        self.channels = channels
        self.cells_per_stage = cells_per_stage
        self.epochs = epochs
        self.batch_size = batch_size
        self.lr = lr
        self.optimizer = optimizer
        self.weight_decay = weight_decay
        self.schedule = schedule
        self.sampling = sampling
        self.train_none = train_none
        self.bn_batches = bn_batches
        self.finetune_steps = finetune_steps
        self.seed = seed
        self.device = device
        self.supernet = supernet
        self._check()
        self._lock = threading.Lock()  # one supernet training, whatever thread evaluates first
        self._device_data = None
        self._failure = None
        self.supernet_ = None          # the trained Supernet
        self.training_stats_ = None    # what train_supernet returned
        if supernet is not None:
            self._load_file(supernet)


    # -- arguments -------------------------------------------------------------------
    def _check(self):
        check_data(self.data)
        if self.space is not None and not isinstance(self.space, CellSpace):
            raise InvalidArgumentError(
                f"space must be a CellSpace (a supernet holds every op of a cell's edges), got {self.space!r}; "
                "for other spaces use nv.estimators.Training or ZeroCost")
        check_positive_int("channels", self.channels)
        check_positive_int("cells_per_stage", self.cells_per_stage)
        check_positive_int("epochs", self.epochs, minimum=0)
        check_positive_int("batch_size", self.batch_size)
        check_choice("optimizer", self.optimizer, OPTIMIZERS)
        check_number("lr", self.lr, minimum=0, min_open=True, allow_none=True)
        check_number("weight_decay", self.weight_decay, minimum=0)
        check_choice("schedule", self.schedule, SCHEDULES)
        check_choice("sampling", self.sampling, SAMPLINGS)
        check_bool("train_none", self.train_none)
        if not self.train_none and all(op == "none" for op in self._space().ops):
            raise InvalidArgumentError(f"train_none=False leaves no op of {self._space()!r} to train")
        check_positive_int("bn_batches", self.bn_batches, minimum=0)
        check_positive_int("finetune_steps", self.finetune_steps, minimum=0)
        check_seed("seed", self.seed, allow_none=False)
        if self.supernet is not None and not isinstance(self.supernet, (str, os.PathLike)):
            raise InvalidArgumentError(f"supernet must be None or the path of a file written by "
                                       f"WeightSharing.save, got {self.supernet!r}")
        self._resolved_device()

    def _resolved_device(self):
        import torch

        from ..devices import resolve_device

        return torch.device(resolve_device(self.device))

    def _space(self) -> CellSpace:
        return CellSpace() if self.space is None else self.space

    @property
    def effective_lr(self) -> float:
        """The learning rate in use (``lr`` or the optimizer's default)."""
        return float(self.lr) if self.lr is not None else DEFAULT_LR[self.optimizer]

    @property
    def fidelity(self) -> str:
        """What a score stands for, e.g. ``'weight sharing: a supernet trained 20 epochs with uniform paths, ...'``."""
        _, h, w = (tuple(self.data.X_train.shape[1:]) + (1, 1, 1))[:3]
        epochs = f"{self.epochs} epoch{'s' if self.epochs != 1 else ''}"
        text = f"weight sharing: a supernet trained {epochs} with {self.sampling} paths, {h}x{w} images"
        if self.bn_batches:
            text += "; BN re-estimated per cell"
        if self.finetune_steps:
            text += f", {self.finetune_steps} fine-tuning step{'s' if self.finetune_steps != 1 else ''} per cell"
        return text

    @property
    def supernet_seconds(self) -> float | None:
        """Seconds the supernet's one-off training took (as recorded in its file, when loaded); None before."""
        return None if self.training_stats_ is None else float(self.training_stats_["seconds"])

    def settings(self) -> dict:
        """The settings that shape the supernet's weights, as plain data (what :meth:`save` records)."""
        space = self._space()
        return {"space": {"ops": list(space.ops), "nodes": int(space.nodes)}, "data": repr(self.data),
                "channels": int(self.channels), "cells_per_stage": int(self.cells_per_stage),
                "epochs": int(self.epochs), "batch_size": int(self.batch_size), "lr": self.effective_lr,
                "optimizer": self.optimizer, "weight_decay": float(self.weight_decay), "schedule": self.schedule,
                "sampling": self.sampling, "train_none": bool(self.train_none), "seed": int(self.seed)}

    # -- the supernet ----------------------------------------------------------------
    def _new_supernet(self):
        """A supernet initialised from ``seed`` (torch's global generator forked and restored), on the device."""
        import torch

        from ..oneshot.supernet import Supernet

        with _BUILD_LOCK, torch.random.fork_rng(devices=[]):
            torch.manual_seed(int(self.seed))
            net = Supernet(self._space(), num_classes=int(self.data.num_classes),
                           in_channels=int(self.data.X_train.shape[1]), channels=self.channels,
                           cells_per_stage=self.cells_per_stage)
        return net.to(self._resolved_device())

    def train_supernet(self) -> dict:
        """Train the supernet now (once: later calls, and evaluations, reuse it) and return its training stats.

        Returns
        -------
        dict
            ``seconds`` (wall time of the training), ``loss`` and ``accuracy`` (one entry per
            epoch: mean training loss, and the share of training images the sampled paths
            classified right), ``steps``, ``epochs``, ``failed_epoch`` (-1) and ``sampling``.

        Raises
        ------
        InvalidArgumentError
            If the loss became NaN or infinite (try a smaller ``lr``).

        Examples
        --------
        >>> import nasviz as nv
        >>> est = nv.estimators.WeightSharing(nv.data.digits(resolution=4, subset=0.25), channels=2, epochs=2)
        >>> stats = est.train_supernet()
        >>> len(stats["loss"]), stats["steps"], est.train_supernet() == stats
        (2, 10, True)
        """
        with self._lock:
            if self._failure is not None:
                raise InvalidArgumentError(self._failure)
            if self.supernet_ is None:
                net = self._new_supernet()
                sampler = make_sampler(self.sampling, self._space(), train_none=self.train_none, seed=self.seed)
                lr, schedule = self.effective_lr, self.schedule
                stats = train_supernet(
                    net, self._data_on_device(), sampler, epochs=self.epochs, batch_size=self.batch_size,
                    optimizer=lambda params: make_optimizer(params, self.optimizer, lr, self.weight_decay),
                    lr_at=lambda step, total: lr_at(step, total, lr, schedule), seed=int(self.seed))
                if stats["failed_epoch"] >= 0:
                    self._failure = (f"supernet training failed: the loss became non-finite (NaN or inf) during "
                                     f"epoch {stats['failed_epoch'] + 1} of {self.epochs}; try a smaller lr "
                                     f"(now {lr:g})")
                    raise InvalidArgumentError(self._failure)
                net.eval()
                self.training_stats_ = {**stats, "sampling": self.sampling}
                self.supernet_ = net
            return dict(self.training_stats_)

    # -- judging a cell --------------------------------------------------------------
    def network(self, arch):
        """The stand-alone network of ``arch`` as this estimator judges it: a copy of its path (the supernet
        is trained first if need be), fine-tuned and with BatchNorm statistics re-estimated, in
        evaluation mode on the device."""
        arch = self._space().validate(arch)
        self.train_supernet()
        return self._judged_network(arch, self._data_on_device())

    def _judged_network(self, arch, data):
        net = self.supernet_.network(arch)
        if self.finetune_steps:
            self._finetune(net, data)
        recalibrate_bn(net, data.X_train, self.bn_batches, self.batch_size)
        return net.eval()

    def _finetune(self, net, data) -> None:
        import torch
        import torch.nn.functional as F

        lr = self.effective_lr
        opt = make_optimizer(net.parameters(), self.optimizer, lr, self.weight_decay)
        gen = torch.Generator().manual_seed(int(self.seed))
        n, steps = len(data.y_train), self.finetune_steps
        perm, pos = None, n
        net.train()
        for step in range(steps):
            if pos + self.batch_size > n and pos > 0:  # a new epoch's order (the last partial batch is dropped)
                perm, pos = torch.randperm(n, generator=gen).to(data.X_train.device), 0
            idx = perm[pos:pos + self.batch_size]
            pos += self.batch_size
            for group in opt.param_groups:
                group["lr"] = lr_at(step, steps, lr, "cosine")
            loss = F.cross_entropy(net(data.X_train[idx]), data.y_train[idx])
            if not math.isfinite(float(loss.detach())):
                raise FloatingPointError(f"the loss became non-finite (NaN or inf) at fine-tuning step {step + 1} "
                                         f"of {steps}; try a smaller lr (now {lr:g}) or fewer finetune_steps")
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()

    def evaluate_one(self, arch, parent=None, fidelity=None) -> Result:
        from ..model_stats import count_params

        space = self._space()
        arch = space.validate(arch)
        self.train_supernet()
        start = time.perf_counter()
        data = self._data_on_device()
        net = self._judged_network(arch, data)
        val = accuracy(net, data.X_val, data.y_val)
        test = accuracy(net, data.X_test, data.y_test)
        metrics = {"val_acc": val, "test_acc": test, "params": count_params(net),
                   "connected": space.is_connected(arch), "supernet_seconds": self.supernet_seconds,
                   "supernet_epochs": int(self.epochs), "sampling": self.sampling, "bn_batches": int(self.bn_batches),
                   "finetune_steps": int(self.finetune_steps), "device": str(self._resolved_device())}
        return Result(score=val, cost=time.perf_counter() - start, metrics=metrics)

    # -- files -----------------------------------------------------------------------
    def save(self, path) -> Path:
        """Write the trained supernet (trained first if need be), the settings that shaped it and the evaluation
        settings (``bn_batches``, ``finetune_steps``) to ``path``; return the path.

        ``torch.save`` of a dict of plain data and tensors: ``WeightSharing.load(path, data)``
        or ``WeightSharing(data, ..., supernet=path)`` reads it back (``torch.load`` with
        ``weights_only=True``: loading runs no code from the file).

        Examples
        --------
        >>> import os, tempfile, nasviz as nv
        >>> data = nv.data.digits(resolution=4, subset=0.25)
        >>> est = nv.estimators.WeightSharing(data, channels=2, epochs=1)
        >>> path = est.save(os.path.join(tempfile.mkdtemp(), "supernet.pt"))
        >>> again = nv.estimators.WeightSharing.load(path, data)
        >>> arch = nv.CellSpace().sample(seed=3)
        >>> again.evaluate(arch).score == est.evaluate(arch).score, again.epochs
        (True, 1)
        """
        import torch

        self.train_supernet()
        path = Path(path)
        state = {k: v.detach().cpu() for k, v in self.supernet_.state_dict().items()}
        stats = {k: self.training_stats_[k] for k in ("seconds", "loss", "accuracy", "steps", "epochs",
                                                      "failed_epoch", "sampling")}
        evaluation = {"bn_batches": int(self.bn_batches), "finetune_steps": int(self.finetune_steps)}
        torch.save({"format": FILE_FORMAT, "version": _FILE_VERSION, "settings": self.settings(),
                    "evaluation": evaluation, "stats": stats, "state_dict": state}, path)
        return path

    @staticmethod
    def _read(path) -> dict:
        import torch

        where = os.fspath(path)
        if not os.path.isfile(where):
            raise InvalidFileError(f"no supernet file {where!r}; write one with WeightSharing(...).save(path)")
        try:
            content = torch.load(where, map_location="cpu", weights_only=True)
        except Exception as err:  # noqa: BLE001 - whatever torch.load raises, the file is not one of ours
            raise InvalidFileError(f"{where!r} is not a supernet file written by WeightSharing.save "
                                   f"({type(err).__name__}: {str(err).splitlines()[0] if str(err) else ''})") from None
        if not isinstance(content, dict) or content.get("format") != FILE_FORMAT:
            raise InvalidFileError(f"{where!r} is not a supernet file written by WeightSharing.save")
        if content.get("version") != _FILE_VERSION:
            raise InvalidFileError(f"{where!r} is a supernet file of version {content.get('version')!r}; this "
                                   f"nasviz reads version {_FILE_VERSION}: train and save it again")
        return content

    def _load_file(self, path) -> None:
        content = self._read(path)
        mine, theirs = self.settings(), content["settings"]
        differ = [k for k in _SHAPING if mine.get(k) != theirs.get(k)]
        if differ:
            was = ", ".join(f"{k}={theirs.get(k)!r}" for k in differ)
            now = ", ".join(f"{k}={mine.get(k)!r}" for k in differ)
            raise InvalidArgumentError(
                f"the supernet in {os.fspath(path)!r} was trained with {was}; this estimator has {now}. Pass the "
                f"file's settings, or use WeightSharing.load({os.fspath(path)!r}, data), which reads them")
        net = self._new_supernet()
        try:
            net.load_state_dict(content["state_dict"])
        except (RuntimeError, KeyError, TypeError) as err:
            raise InvalidFileError(f"the weights in {os.fspath(path)!r} do not fit the supernet: {err}") from None
        self.supernet_ = net.eval()
        self.training_stats_ = dict(content["stats"])

    @classmethod
    def load(cls, path, data, **changes) -> WeightSharing:
        """A WeightSharing whose supernet is the one saved in ``path`` (by :meth:`save`), with its settings.

        ``data`` must be the data it was trained on. The evaluation settings (``bn_batches``,
        ``finetune_steps``) are the saved estimator's unless ``changes`` sets them (with
        ``device``); a setting that shaped the weights and differs from the file's is refused,
        naming it.
        """
        content = cls._read(path)
        settings = content["settings"]
        space = settings["space"]
        default = CellSpace()
        kwargs = {k: settings[k] for k in _SHAPING if k not in ("space", "data")}
        kwargs["space"] = None if (tuple(space["ops"]), space["nodes"]) == (default.ops, default.nodes) \
            else CellSpace(ops=tuple(space["ops"]), nodes=space["nodes"])
        kwargs.update(content.get("evaluation") or {})
        kwargs.update(changes)
        return cls(data, supernet=path, **kwargs)
