"""The fixed training recipes behind the tables that nasviz builds itself.

A :class:`Recipe` says everything that decides a cell's numbers: the search space,
the data, the network skeleton, the optimiser and its schedule, the seeds, and how
candidates are grouped for batched training (grouping changes results only by
floating-point rounding, but a build keeps it fixed so that a resumed build gives the
same numbers as one that ran in one go). :data:`RECIPES` holds the recipe of each
table; ``nasviz/bench/README.md`` explains why ``digits201``'s recipe is what it is.

A recipe's ``space`` is ``None`` for NAS-Bench-201's :class:`~nasviz.CellSpace` (the
default) or ``{"kind": "macro", ...}`` with the keyword arguments of a
:class:`~nasviz.MacroSpace` (a layer-chain space, each of whose members is trained on
its own).

Examples
--------
>>> from nasviz.bench.build.recipes import RECIPES
>>> r = RECIPES["digits201"]
>>> r.channels, r.cells_per_stage, r.epochs, r.seeds
(4, 1, 6, (0, 1, 2))
>>> r.estimator(seed=1).seed
1
>>> layers = RECIPES["shifted-layers"]
>>> len(layers.make_space()), layers.epochs == RECIPES["shifted201"].epochs
(4920, True)
"""

from __future__ import annotations

import inspect
import json
from dataclasses import asdict, dataclass, fields, replace

from ...errors import InvalidArgumentError, UnknownNameError, check_positive_int

__all__ = ["RECIPES", "SPACE_KINDS", "Recipe"]

#: The kinds of space a recipe's ``space`` may name (``None``: NAS-Bench-201's CellSpace).
SPACE_KINDS = ("macro",)
_SPACES: dict = {}  # the space of each recipe space spec, built once per process


def _tuples(value):
    """``value`` with every list (as JSON gives them back) turned into a tuple, recursively."""
    if isinstance(value, (list, tuple)):
        return tuple(_tuples(v) for v in value)
    return value


def _lists(value):
    """``value`` with every tuple turned into a list, recursively (its JSON form)."""
    if isinstance(value, (list, tuple)):
        return [_lists(v) for v in value]
    if isinstance(value, dict):
        return {k: _lists(v) for k, v in value.items()}
    return value


def _macro_arguments() -> list[str]:
    from ...spaces.macro import MacroSpace

    return [n for n in inspect.signature(MacroSpace.__init__).parameters if n != "self"]


@dataclass(frozen=True)
class Recipe:
    """One fixed way of training every member of a search space for a table.

    Parameters
    ----------
    channels, cells_per_stage : int
        Width of the first stage and cells per stage of ``CellSpace.build`` (three
        stages, widths ``channels``, ``2*channels``, ``4*channels``). A MacroSpace's
        architectures fix their own widths: these two do not apply to them.
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
        Classes in one task of a build (``Training.evaluate_many`` with
        ``max_batch=chunk``): CellSpace classes are trained together as one fused
        network; MacroSpace architectures one after another in one worker process.
    order_seed : int
        Seeds the fixed random order in which classes are grouped into chunks and
        trained (so any finished prefix of a build is a uniform random sample).
    space : dict, optional
        The search space: ``None`` (the default) for NAS-Bench-201's
        :class:`~nasviz.CellSpace`, trained one representative per canonical class;
        or ``{"kind": "macro", **arguments}`` for ``nv.MacroSpace(**arguments)``, every
        member its own class (:meth:`make_space`). Its ``input_shape`` defaults to
        ``(1, resolution, resolution)`` and must be that when given. Lists (as JSON
        gives them back) are stored as tuples.

    Examples
    --------
    >>> r = Recipe(resolution=12, canvas=12, space={"kind": "macro", "max_layers": 1, "ops": ["conv"]})
    >>> r.space["ops"], len(r.make_space())
    (('conv',), 48)
    >>> Recipe.from_dict(json.loads(json.dumps(r.to_dict()))) == r
    True
    >>> Recipe(space={"kind": "graph"})
    Traceback (most recent call last):
    ...
    nasviz.errors.UnknownNameError: unknown space kind 'graph' in the recipe's space; accepted: 'macro' (or space=None for NAS-Bench-201's CellSpace)
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
    space: dict | None = None

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
        if self.space is not None:
            object.__setattr__(self, "space", self._checked_space(self.space))
            self.make_space()  # the space's own checks name a bad argument

    def _checked_space(self, spec) -> dict:
        """The ``space`` spec normalised (tuples for lists); raises for a kind or argument it cannot take."""
        if not isinstance(spec, dict) or "kind" not in spec:
            raise InvalidArgumentError(
                "space must be None (NAS-Bench-201's CellSpace) or a dict {'kind': 'macro', ...} of "
                f"nv.MacroSpace keyword arguments, got {spec!r}")
        if spec["kind"] not in SPACE_KINDS:
            raise UnknownNameError(f"unknown space kind {spec['kind']!r} in the recipe's space; accepted: "
                                   f"{', '.join(map(repr, SPACE_KINDS))} (or space=None for NAS-Bench-201's CellSpace)")
        accepted = _macro_arguments()
        unknown = sorted(set(spec) - {"kind", *accepted})
        if unknown:
            raise InvalidArgumentError(f"unknown MacroSpace arguments {unknown} in the recipe's space; accepted: "
                                       f"{accepted}")
        spec = {k: _tuples(v) for k, v in spec.items()}
        wanted = (1, self.resolution, self.resolution)
        if "input_shape" in spec and spec["input_shape"] != wanted:
            raise InvalidArgumentError(f"the recipe's space has input_shape {spec['input_shape']!r}, but its networks "
                                       f"see {wanted} (1 channel, resolution {self.resolution}): pass "
                                       f"input_shape={wanted} or leave it out")
        if spec.get("num_classes", 10) != 10:
            raise InvalidArgumentError(f"the recipe's space has num_classes {spec['num_classes']!r}; the digits have "
                                       "10 classes: pass num_classes=10 or leave it out")
        return spec

    def __hash__(self):  # the space is a dict: hash the recipe's JSON form
        return hash(json.dumps(self.to_dict(), sort_keys=True))

    @property
    def space_kind(self) -> str:
        """``"cell"`` (NAS-Bench-201's CellSpace, ``space=None``) or the ``kind`` of :attr:`space`."""
        return "cell" if self.space is None else self.space["kind"]

    def space_arguments(self) -> dict:
        """The keyword arguments :meth:`make_space` passes to ``nv.MacroSpace`` (``{}`` for a CellSpace), in the
        order of its signature, with ``input_shape`` filled in.

        Examples
        --------
        >>> RECIPES["shifted-layers"].space_arguments()["input_shape"]
        (1, 12, 12)
        """
        if self.space is None:
            return {}
        given = {**self.space, "input_shape": (1, self.resolution, self.resolution)}
        return {k: given[k] for k in _macro_arguments() if k in given}

    def make_space(self):
        """The recipe's search space: ``nv.CellSpace()``, or ``nv.MacroSpace(**arguments)`` (built once per process).

        Examples
        --------
        >>> RECIPES["digits201"].make_space()
        CellSpace()
        >>> RECIPES["shifted-layers"].make_space().max_fc_layers
        1
        """
        if self.space is None:
            from ...spaces.cell import CellSpace

            return CellSpace()
        arguments = self.space_arguments()
        key = json.dumps(_lists(arguments), sort_keys=True)
        if key not in _SPACES:
            from ...spaces.macro import MacroSpace

            _SPACES[key] = MacroSpace(**arguments)
        return _SPACES[key]

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
        """A :class:`nasviz.estimators.Training` that trains the recipe's space with this recipe and ``seed``
        on CPU.

        ``changes`` are other keyword arguments of ``Training`` that replace the recipe's
        (e.g. ``epochs=1`` for a low-fidelity proxy of the table, ``device="auto"``);
        ``data`` replaces the recipe's digits (e.g. at a lower resolution).

        Examples
        --------
        >>> est = RECIPES["digits201"].estimator(seed=0, epochs=2)
        >>> est.epochs, est.channels, est.batch_size
        (2, 4, 128)
        >>> RECIPES["shifted-layers"].estimator().space == RECIPES["shifted-layers"].make_space()
        True
        """
        from ...estimators.training import Training

        settings = {"space": self.make_space(), "epochs": self.epochs, "batch_size": self.batch_size, "lr": self.lr,
                    "optimizer": self.optimizer, "weight_decay": self.weight_decay, "schedule": self.schedule,
                    "channels": self.channels, "cells_per_stage": self.cells_per_stage,
                    "recalibrate_bn": self.recalibrate_bn, "seed": int(seed), "device": "cpu", "max_batch": self.chunk}
        accepted = set(settings) | {"inherit", "inherit_epochs", "threads"}
        unknown = sorted(set(changes) - accepted)
        if unknown:
            raise InvalidArgumentError(f"unknown Training arguments {unknown}; accepted: {sorted(accepted)}")
        settings.update(changes)
        return Training(self.data() if data is None else data, **settings)

    def with_seeds(self, seeds) -> Recipe:
        """The same recipe with other seeds."""
        return replace(self, seeds=tuple(int(s) for s in seeds))

    def to_dict(self) -> dict:
        """Every field, in JSON form (lists for tuples): :meth:`from_dict` reads it back."""
        d = asdict(self)
        d["seeds"] = list(self.seeds)
        d["space"] = None if self.space is None else _lists(dict(self.space))
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
        when it is 8, ``space`` when it is None, as in journals written before those fields existed)."""
        d = self.to_dict()
        d.pop("seeds")
        if d["canvas"] == 8:
            d.pop("canvas")
        if d["space"] is None:
            d.pop("space")
        return d

    def describe(self) -> str:
        """One paragraph for a table's description.

        Examples
        --------
        >>> print(RECIPES["shifted-layers"].describe()[:97])
        nv.MacroSpace(max_layers=2, ops=('conv', 'max_pool', 'avg_pool'), filters=(16, 32), kernel_sizes=
        """
        c = self.channels
        task = (f"nv.data.digits(resolution={self.resolution})" if self.canvas == 8 else
                f"nv.data.shifted_digits(canvas={self.canvas}, resolution={self.resolution}) (each 8x8 digit pasted "
                f"at a fixed random place on a {self.canvas}x{self.canvas} canvas)")
        if self.space is None:
            network = (f"CellSpace.build(channels={c}, cells_per_stage={self.cells_per_stage}) (stage widths "
                       f"{c}/{2 * c}/{4 * c})")
            grouping = (f"{self.chunk} canonical classes trained at once as one fused network "
                        "(nv.estimators.Training.evaluate_many)")
        else:
            arguments = ", ".join(f"{k}={v!r}" for k, v in self.space_arguments().items())
            network = f"nv.MacroSpace({arguments}).build(arch) (each architecture's own network)"
            grouping = (f"each architecture trained on its own, not fused: {self.chunk} architectures per task, "
                        "trained one after another in one worker process")
        return (f"{network}, trained on {task} (fixed split: 1,077 train, "
                f"360 validation, 360 test images) for {self.epochs} epochs, batch {self.batch_size}, "
                f"{self.optimizer.upper()}{' (Nesterov momentum 0.9)' if self.optimizer == 'sgd' else ''}, "
                f"lr {self.lr:g} with {self.schedule} schedule, weight decay {self.weight_decay:g}, BatchNorm statistics "
                f"re-estimated from {self.recalibrate_bn} training minibatches before each evaluation, seeds "
                f"{list(self.seeds)}; {grouping}, one CPU thread per worker process")


#: The recipe of each table that nasviz builds (see ``nasviz/bench/README.md``). ``shifted201``'s task and
#: length were chosen by ``benchmarks/truth_pilots.py`` (96 connected classes x 6 runs): a 12x12 canvas gives a
#: split-half (3 runs vs 3) Spearman of 0.87, median 0.53 and IQR 13 points, where the plain 8x8 digits give
#: 0.67, 0.94 and 2.8; 4 epochs instead of 6 keep the reliability (0.86) but flatten the epoch ladder. It was
#: built with seeds 0-5 first; over the first 2,014 complete classes their split-half (3 v 3) was 0.849 (0.844 over
#: all ten 3 v 3 splits), short of 0.85, so two more seeds were added (Spearman-Brown predicts 0.88 for 4 v 4).
RECIPES = {"digits201": Recipe(),
           "shifted201": Recipe(canvas=12, resolution=12, epochs=6, seeds=(0, 1, 2, 3, 4, 5, 6, 7))}
#: ``shifted-layers``: ``shifted201``'s task, epochs, batch, optimizer and schedule over a layer-chain space small
#: enough to be the whole table (4,920 architectures: 120 one-layer and 4,800 two-layer chains, each with no hidden
#: fully connected layer or one of 16 or 64 units), so every strategy can search it directly; each architecture
#: trains on its own. Its learning rate (0.2), filters (16, 32) and 4 seeds were chosen by
#: ``benchmarks/layer_pilots.py``: with shifted201's lr 0.05 and filters (8, 16) the chains barely learn (median
#: 0.16); lr 0.2 with 16/32 filters gives median 0.30, IQR 22 points, split-half (2 v 2) Spearman 0.95.
RECIPES["shifted-layers"] = replace(RECIPES["shifted201"], lr=0.2, seeds=(0, 1, 2, 3), space={
    "kind": "macro", "max_layers": 2, "ops": ("conv", "max_pool", "avg_pool"), "filters": (16, 32),
    "kernel_sizes": (3, 5), "strides": (1, 2), "activations": ("relu", "tanh"), "dropouts": (0.0, 0.2),
    "input_shape": (1, 12, 12), "max_fc_layers": 1, "fc_units": (16, 64)})


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
    nasviz.errors.UnknownNameError: no build recipe for table 'nb201-12epoch'; tables that nasviz builds: 'digits201', 'shifted201', 'shifted-layers'
    """
    if name not in RECIPES:
        raise UnknownNameError(f"no build recipe for table {name!r}; tables that nasviz builds: "
                               f"{', '.join(map(repr, RECIPES))}")
    return RECIPES[name]
