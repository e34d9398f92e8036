"""What the checks compare students' code on and against: fixed inputs, tables and ground truths.

The hand-picked cells of A1, seeded samples of distinct cells, the number of
members a restricted space must have (A1), the table a strategy is run on (A2), and
the probe networks, the sample of cells and the reference rankings a proxy is
judged by (A3). What is expensive to compute is
computed once per process and kept in memory (:data:`MEMBER_COUNTS`,
:data:`REFERENCE_CACHE`); nothing is written to disk.

Examples
--------
>>> import nasviz as nv
>>> space = nv.CellSpace()
>>> len(hand_picked(space, HAND_PICKED)), len(hand_picked(nv.CellSpace(nodes=3), HAND_PICKED))
(9, 0)
>>> count_members(space, space.is_connected)
15284
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..errors import InvalidArgumentError, check_choice, check_positive_int

__all__ = [
    "HAND_PICKED",
    "MEMBER_COUNTS",
    "MORE_HAND_PICKED",
    "REFERENCES",
    "REFERENCE_CACHE",
    "TRAINING_REFERENCE",
    "count_members",
    "default_space",
    "hand_picked",
    "load_table",
    "probe_networks",
    "proxy_data",
    "proxy_reference",
    "proxy_reference_name",
    "proxy_sample",
    "random_cells",
]

# -- fixed inputs ------------------------------------------------------------------------------
#: Cells every A1 check sees first, as op tuples of a 4-node cell (edges in NAS-Bench-201 order:
#: 0->1, 0->2, 1->2, 0->3, 1->3, 2->3). A3's probe networks are drawn from them too.
HAND_PICKED = (
    ("none", "none", "none", "none", "none", "none"),                          # nothing at all
    ("none", "none", "none", "nor_conv_3x3", "none", "none"),                  # one edge, input to output
    ("nor_conv_3x3", "none", "skip_connect", "none", "none", "avg_pool_3x3"),  # the long way 0->1->2->3
    ("none", "none", "nor_conv_3x3", "none", "nor_conv_3x3", "nor_conv_3x3"),  # edges into 3 from unreached nodes
    ("nor_conv_3x3", "none", "none", "none", "none", "skip_connect"),          # 1 is a dead end, 2 unreached
    ("none", "skip_connect", "nor_conv_1x1", "none", "none", "nor_conv_1x1"),  # only through node 2
    ("avg_pool_3x3", "none", "none", "none", "skip_connect", "none"),          # only through node 1
    ("nor_conv_3x3",) * 6,
    ("nor_conv_3x3", "nor_conv_3x3", "avg_pool_3x3", "skip_connect", "nor_conv_3x3", "skip_connect"),
)
#: Cells checked after the random ones: paths that stop short, or run through one node only.
MORE_HAND_PICKED = (
    ("skip_connect", "none", "none", "none", "none", "none"),                  # reaches 1, stops
    ("none", "none", "avg_pool_3x3", "none", "none", "avg_pool_3x3"),          # 1->2->3 but 0 feeds nothing
    ("none", "avg_pool_3x3", "none", "none", "none", "none"),                  # reaches 2, stops
    ("none", "nor_conv_1x1", "none", "none", "none", "skip_connect"),          # 0->2->3
    ("nor_conv_1x1", "none", "none", "none", "nor_conv_1x1", "none"),          # 0->1->3
    ("none", "none", "none", "skip_connect", "none", "none"),                  # a plain identity
)


def default_space(space=None):
    """``space``, or ``nv.CellSpace()`` when it is ``None``."""
    if space is None:
        from ..spaces import CellSpace

        return CellSpace()
    return space


def hand_picked(space, ops_list) -> list:
    """The cells of ``ops_list`` in ``space``, for a 4-node cell space with NAS-Bench-201's ops (none for others)."""
    from ..spaces.cell import NB201_OPS

    if getattr(space, "nodes", None) != 4 or tuple(getattr(space, "ops", ())) != NB201_OPS:
        return []
    return [space.from_ops(ops) for ops in ops_list]


def random_cells(space, n: int, seed: int) -> list:
    """``n`` distinct members of ``space`` (all of them if it is smaller), seeded, in draw order.

    Examples
    --------
    >>> import nasviz as nv
    >>> cells = random_cells(nv.CellSpace(), 3, seed=0)
    >>> len(set(cells)), cells == random_cells(nv.CellSpace(), 3, seed=0)
    (3, True)
    """
    rng = np.random.default_rng(seed)
    out, seen = [], set()
    while len(out) < min(n, len(space)):
        arch = space.sample(seed=rng)
        if arch not in seen:
            seen.add(arch)
            out.append(arch)
    return out


def probe_networks(data, seed: int = 0):
    """``(cells, build, inputs, targets)``: four cells (three connected, one disconnected), a seeded
    ``build(arch)`` of their untrained networks for ``data``, and a minibatch of 32 training images."""
    import torch

    from ..spaces import CellSpace

    space = CellSpace()
    cells = [space.from_ops(ops) for ops in (HAND_PICKED[8], HAND_PICKED[2], HAND_PICKED[6], HAND_PICKED[0])]

    def build(arch):
        with torch.random.fork_rng():
            torch.manual_seed(seed)
            return space.build(arch, num_classes=data.num_classes, in_channels=data.in_channels, channels=8)

    g = torch.Generator().manual_seed(seed)
    idx = torch.randperm(len(data.y_train), generator=g)[:32]
    return cells, build, data.X_train[idx].clone(), data.y_train[idx].clone()


# -- A1: how many members a restricted space has -----------------------------------------------------
#: ``(repr(space), rule's qualified name) -> count`` for rules that are methods of their space.
MEMBER_COUNTS: dict = {}


def count_members(base, rule_fn) -> int:
    """How many members of ``base`` satisfy ``rule_fn`` (counted once per process for a method of ``base``)."""
    key = (repr(base), getattr(rule_fn, "__qualname__", None)) if getattr(rule_fn, "__self__", None) is base else None
    if key is not None and key in MEMBER_COUNTS:
        return MEMBER_COUNTS[key]
    n = sum(1 for a in base.enumerate() if rule_fn(a))
    if key is not None:
        MEMBER_COUNTS[key] = n
    return n


# -- A2: the table strategies run on ------------------------------------------------------------
def load_table(bench, metric):
    """``(Benchmark, metric)`` for a table name or a Benchmark and a metric (``None``: the table's default).

    Examples
    --------
    >>> bench, metric = load_table("nb201-12epoch", None)
    >>> bench.name, metric
    ('nb201-12epoch', 'cifar10_val_acc')
    """
    from ..bench import Benchmark, load

    if isinstance(bench, str):
        bench = load(bench)
    if not isinstance(bench, Benchmark):
        raise InvalidArgumentError(f"bench must be a table name such as 'nb201-12epoch' or a Benchmark, got {bench!r}")
    metric = metric or bench.default_metric
    check_choice("metric", metric, bench.metrics)
    return bench, metric


# -- A3: the rankings a proxy is judged by ------------------------------------------------------
#: reference name -> what it is. ``"auto"`` is ``"digits201"``.
#:
#: A proxy is graded against the truth of the data it sees: digits201 holds the very networks the check builds,
#: trained on the very digits the proxy is given (the mean of its 3 training seeds). NAS-Bench-201's CIFAR-10
#: ranking of the same cells is another dataset's: on 256 sampled cells it agrees with digits201's at Spearman
#: 0.19 (seed 0) and -0.02 (seed 1), so a proxy graded against it would be graded on a transfer it cannot see.
#: digits201 is noisy (its seeds agree with one another at Spearman 0.37-0.55 on those cells), hence a large
#: sample (256 cells) and a bar relative to the parameter count on the same cells (``PARAMS_MARGIN`` in
#: :mod:`~nasviz.course.a3_proxies`). ``"nb201-12epoch"`` and ``"training"`` stay available for comparison.
REFERENCES = {
    "digits201": "validation accuracy in the digits201 table (cells trained on scikit-learn's digits by nasviz)",
    "nb201-12epoch": ("NAS-Bench-201's CIFAR-10 validation accuracy after 12 epochs, for the same cells "
                      "(another dataset: the proxies see the digits)"),
    "training": ("validation accuracy after nv.estimators.Training: 3 epochs, 8 channels, 4x4-pixel digits, "
                 "seed 0 (computed here, kept in memory; a noisy reference)"),
}
#: How the ``"training"`` reference trains its cells.
TRAINING_REFERENCE = {"epochs": 3, "channels": 8, "resolution": 4, "seed": 0, "max_batch": 32}
#: ``(reference name, cell strings) -> (values, data)``: the ground truths computed in this process.
REFERENCE_CACHE: dict = {}


def proxy_reference_name(reference: str = "auto") -> str:
    """The reference that ``reference`` stands for: ``"auto"`` resolved, other names checked.

    Examples
    --------
    >>> proxy_reference_name("training")
    'training'
    """
    if reference == "auto":
        return "digits201"
    return check_choice("reference", reference, list(REFERENCES))


def _reference_data(name: str):
    from ..data import digits

    resolution = TRAINING_REFERENCE["resolution"] if name == "training" else 8
    return digits(resolution=resolution)


def proxy_data(reference: str = "auto"):
    """The data whose networks the reference judges, and that :func:`~nasviz.course.check_proxy` gives a proxy.

    Examples
    --------
    >>> proxy_data("training").input_shape
    (1, 4, 4)
    """
    return _reference_data(proxy_reference_name(reference))


def proxy_sample(size: int = 64, seed: int = 0, space=None) -> list:
    """The fixed sample of distinct cells a proxy is judged on (seeded, in draw order).

    Examples
    --------
    >>> cells = proxy_sample(4, seed=0)
    >>> len(set(cells)), cells == proxy_sample(4, seed=0)
    (4, True)
    """
    check_positive_int("size", size)
    return random_cells(default_space(space), size, seed)


def _trained(archs: list, data) -> np.ndarray:
    from ..estimators.training import Training

    cfg = TRAINING_REFERENCE
    est = Training(data, epochs=cfg["epochs"], channels=cfg["channels"], seed=cfg["seed"], device="cpu",
                   threads=1, max_batch=cfg["max_batch"])
    results = est.evaluate_many(archs)
    return np.array([r.score if r.ok else np.nan for r in results], dtype=float)


def _looked_up(archs: list, name: str) -> np.ndarray:
    from ..bench import load

    bench = load(name)
    metric = "cifar10_val_acc" if name == "nb201-12epoch" else bench.default_metric
    return np.asarray(bench.query_many(archs, metric), dtype=float)


def proxy_reference(archs: Sequence, reference: str = "auto") -> tuple[np.ndarray, object, str]:
    """Ground truth for ``archs``: ``(values, data, name)``.

    ``reference`` is one of :data:`REFERENCES` or ``"auto"`` (``"digits201"``,
    see :data:`REFERENCES` for why). ``data`` is the dataset whose networks
    the reference judges, which a proxy should see too. The ``"training"``
    reference trains the cells (batched, one thread, seeded) once per process and
    keeps the values in memory (:data:`REFERENCE_CACHE`); nothing is written to disk.

    Examples
    --------
    >>> values, data, name = proxy_reference(proxy_sample(3), "nb201-12epoch")
    >>> values.shape, data.input_shape, name
    ((3,), (1, 8, 8), 'nb201-12epoch')
    """
    name = proxy_reference_name(reference)
    archs = list(archs)
    key = (name, tuple(str(a) for a in archs))
    if key not in REFERENCE_CACHE:
        data = _reference_data(name)
        values = _trained(archs, data) if name == "training" else _looked_up(archs, name)
        values.flags.writeable = False
        REFERENCE_CACHE[key] = (values, data)
    values, data = REFERENCE_CACHE[key]
    return values, data, name
