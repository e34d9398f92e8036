"""The fixed training recipes behind the tables that nasviz builds itself.

A :class:`Recipe` says everything that decides a cell's numbers: the data, the
network skeleton, the optimiser and its schedule, the seeds, and how candidates are
grouped for batched training (grouping changes results only by floating-point
rounding, but a build keeps it fixed so that a resumed build gives the same numbers
as one that ran in one go). :data:`RECIPES` holds the recipe of each table;
``nasviz/bench/README.md`` explains why ``digits201``'s recipe is what it is.

Examples
--------
>>> from nasviz.bench.build.recipes import RECIPES
>>> r = RECIPES["digits201"]
>>> r.channels, r.cells_per_stage, r.epochs, r.seeds
(4, 1, 6, (0, 1, 2))
>>> r.estimator(seed=1).seed
1
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields, replace

from ...errors import InvalidArgumentError, UnknownNameError, check_positive_int

__all__ = ["RECIPES", "Recipe"]


@dataclass(frozen=True)
class Recipe:
    """One fixed way of training every cell of :class:`~nasviz.CellSpace` for a table.

    Parameters
    ----------
    channels, cells_per_stage : int
        Width of the first stage and cells per stage of ``CellSpace.build`` (three
        stages, widths ``channels``, ``2*channels``, ``4*channels``).
    epochs : int
        Training epochs; validation and test accuracy are recorded after each.
    batch_size : int
        Minibatch size.
    optimizer : {"sgd", "adam"}
        As in :class:`nasviz.estimators.Training` (SGD has Nesterov momentum 0.9).
    lr, weight_decay : float
        Peak learning rate and L2 penalty.
    schedule : {"cosine", "constant"}
        Learning-rate schedule, stepped per minibatch.
    recalibrate_bn : int
        Before each evaluation, BatchNorm statistics are re-estimated from this many
        training minibatches (``Training(recalibrate_bn=...)``; 0 keeps the running
        averages, which lag far behind the weights in a 9-step epoch).
    resolution : int
        Image side the networks see: ``nv.data.digits(resolution=...)`` (its fixed split),
        or, with ``canvas`` above 8, ``nv.data.shifted_digits(canvas, resolution=...)``.
    canvas : int
        8: the plain 8x8 digits; above 8: every digit pasted at a random (fixed) place on
        a ``canvas`` x ``canvas`` field (:func:`nasviz.data.shifted_digits`).
    seeds : tuple of int
        Training seeds (weight initialisation and minibatch order); one run per seed.
    chunk : int
        Canonical classes trained together as one fused network
        (``Training.evaluate_many`` with ``max_batch=chunk``).
    order_seed : int
        Seeds the fixed random order in which classes are grouped into chunks and
        trained (so any finished prefix of a build is a uniform random sample).
    """

    channels: int = 4
    cells_per_stage: int = 1
    epochs: int = 6
    batch_size: int = 128
    optimizer: str = "sgd"
    lr: float = 0.05
    weight_decay: float = 5e-4
    schedule: str = "cosine"
    recalibrate_bn: int = 4
    resolution: int = 8
    canvas: int = 8
    seeds: tuple = (0, 1, 2)
    chunk: int = 16
    order_seed: int = 0

    def __post_init__(self):
        for name in ("channels", "cells_per_stage", "epochs", "batch_size", "resolution", "chunk"):
            check_positive_int(name, getattr(self, name))
        if isinstance(self.canvas, bool) or not isinstance(self.canvas, int) or self.canvas < 8:
            raise InvalidArgumentError(f"canvas must be an integer >= 8 (8: the plain digits), got {self.canvas!r}")
        if self.resolution > self.canvas:
            raise InvalidArgumentError(f"resolution must be at most the canvas ({self.canvas}), got "
                                       f"{self.resolution!r}")
        seeds = tuple(self.seeds)
        if not seeds or len(set(seeds)) != len(seeds) or not all(
                isinstance(s, int) and not isinstance(s, bool) and s >= 0 for s in seeds):
            raise InvalidArgumentError(f"seeds must be distinct integers >= 0, got {self.seeds!r}")
        object.__setattr__(self, "seeds", seeds)

    def data(self, **changes):
        """The training data: ``nv.data.digits(resolution=self.resolution)`` (fixed split), or
        ``nv.data.shifted_digits(canvas=self.canvas, resolution=self.resolution)``.

        ``changes`` (``resolution``, ``subset``, ``seed``) make the low-fidelity views of the
        same task, e.g. ``recipe.data(resolution=6)``.
        """
        from ...data import digits, shifted_digits

        settings = {"resolution": self.resolution, **changes}
        if self.canvas == 8:
            return digits(**settings)
        return shifted_digits(canvas=self.canvas, **settings)

    def estimator(self, seed: int = 0, data=None, **changes):
        """A :class:`nasviz.estimators.Training` that trains with this recipe and ``seed`` on CPU.

        ``changes`` are other keyword arguments of ``Training`` that replace the recipe's
        (e.g. ``epochs=1`` for a low-fidelity proxy of the table, ``device="auto"``);
        ``data`` replaces the recipe's digits (e.g. at a lower resolution).

        Examples
        --------
        >>> est = RECIPES["digits201"].estimator(seed=0, epochs=2)
        >>> est.epochs, est.channels, est.batch_size
        (2, 4, 128)
        """
        from ...estimators.training import Training

        settings = {"epochs": self.epochs, "batch_size": self.batch_size, "lr": self.lr, "optimizer": self.optimizer,
                    "weight_decay": self.weight_decay, "schedule": self.schedule, "channels": self.channels,
                    "cells_per_stage": self.cells_per_stage, "recalibrate_bn": self.recalibrate_bn,
                    "seed": int(seed), "device": "cpu", "max_batch": self.chunk}
        accepted = set(settings) | {"space", "inherit", "inherit_epochs", "threads"}
        unknown = sorted(set(changes) - accepted)
        if unknown:
            raise InvalidArgumentError(f"unknown Training arguments {unknown}; accepted: {sorted(accepted)}")
        settings.update(changes)
        return Training(self.data() if data is None else data, **settings)

    def with_seeds(self, seeds) -> Recipe:
        """The same recipe with other seeds."""
        return replace(self, seeds=tuple(int(s) for s in seeds))

    def to_dict(self) -> dict:
        d = asdict(self)
        d["seeds"] = list(self.seeds)
        return d

    @classmethod
    def from_dict(cls, d: dict) -> Recipe:
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(d) - known)
        if unknown:
            raise InvalidArgumentError(f"unknown recipe fields {unknown}; accepted: {sorted(known)}")
        d = dict(d)
        if "seeds" in d:
            d["seeds"] = tuple(d["seeds"])
        return cls(**d)

    def identity(self) -> dict:
        """Everything that decides a (class, seed) result: all fields but ``seeds`` (and ``canvas``
        when it is 8, as in journals written before the field existed)."""
        d = self.to_dict()
        d.pop("seeds")
        if d["canvas"] == 8:
            d.pop("canvas")
        return d

    def describe(self) -> str:
        """One paragraph for a table's description."""
        c = self.channels
        task = (f"nv.data.digits(resolution={self.resolution})" if self.canvas == 8 else
                f"nv.data.shifted_digits(canvas={self.canvas}, resolution={self.resolution}) (each 8x8 digit pasted "
                f"at a fixed random place on a {self.canvas}x{self.canvas} canvas)")
        return (f"CellSpace.build(channels={c}, cells_per_stage={self.cells_per_stage}) (stage widths {c}/{2 * c}/"
                f"{4 * c}), trained on {task} (fixed split: 1,077 train, "
                f"360 validation, 360 test images) for {self.epochs} epochs, batch {self.batch_size}, "
                f"{self.optimizer.upper()}{' (Nesterov momentum 0.9)' if self.optimizer == 'sgd' else ''}, "
                f"lr {self.lr:g} with {self.schedule} schedule, weight decay {self.weight_decay:g}, BatchNorm statistics "
                f"re-estimated from {self.recalibrate_bn} training minibatches before each evaluation, seeds "
                f"{list(self.seeds)}; {self.chunk} canonical classes trained at once as one fused network "
                f"(nv.estimators.Training.evaluate_many), one CPU thread per worker process")


#: The recipe of each table that nasviz builds (see ``nasviz/bench/README.md``). ``shifted201``'s task and
#: length were chosen by ``benchmarks/truth_pilots.py`` (96 connected classes x 6 runs): a 12x12 canvas gives a
#: split-half (3 runs vs 3) Spearman of 0.87, median 0.53 and IQR 13 points, where the plain 8x8 digits give
#: 0.67, 0.94 and 2.8; 4 epochs instead of 6 keep the reliability (0.86) but flatten the epoch ladder.
RECIPES = {"digits201": Recipe(),
           "shifted201": Recipe(canvas=12, resolution=12, epochs=6, seeds=(0, 1, 2, 3, 4, 5))}


def get_recipe(name: str) -> Recipe:
    """The recipe of table ``name`` (``nv.bench.recipe``).

    Examples
    --------
    >>> import nasviz as nv
    >>> nv.bench.recipe("digits201").epochs
    6
    >>> nv.bench.recipe("nb201-12epoch")
    Traceback (most recent call last):
    ...
    nasviz.errors.UnknownNameError: no build recipe for table 'nb201-12epoch'; tables that nasviz builds: 'digits201'
    """
    if name not in RECIPES:
        raise UnknownNameError(f"no build recipe for table {name!r}; tables that nasviz builds: "
                               f"{', '.join(map(repr, RECIPES))}")
    return RECIPES[name]
