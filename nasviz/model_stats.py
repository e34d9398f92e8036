"""Model size and cost: parameters and FLOPs of a ``torch.nn.Module``."""

from __future__ import annotations

from collections.abc import Sequence

from .errors import ShapeError

__all__ = ["count_flops", "count_params", "edge_decomposition"]


def count_params(model, trainable_only: bool = True) -> int:
    """Number of (trainable) parameters of ``model``.

    Examples
    --------
    >>> import torch
    >>> count_params(torch.nn.Linear(3, 2))
    8
    """
    return int(sum(p.numel() for p in model.parameters() if p.requires_grad or not trainable_only))


def count_flops(model, input_shape: Sequence[int]) -> int:
    """Floating-point operations of one forward pass on a single input of ``input_shape``.

    Counted by :class:`torch.utils.flop_counter.FlopCounterMode` (a multiply-add is
    two FLOPs); ``input_shape`` excludes the batch dimension, e.g. ``(1, 8, 8)``.

    Examples
    --------
    >>> import torch
    >>> count_flops(torch.nn.Linear(3, 2), (3,))
    12
    """
    import torch
    from torch.utils.flop_counter import FlopCounterMode

    shape = tuple(input_shape)
    if not shape or not all(isinstance(d, int) and d > 0 for d in shape):
        raise ShapeError(f"input_shape must be positive ints without the batch dimension, e.g. (1, 8, 8); got {input_shape!r}")
    was_training = model.training
    model.eval()
    try:
        param = next(model.parameters(), None)
        device = param.device if param is not None else "cpu"
        x = torch.zeros((1, *shape), device=device)
        counter = FlopCounterMode(display=False)
        with counter, torch.no_grad():
            try:
                model(x)
            except RuntimeError as err:
                raise ShapeError(f"model does not accept input_shape {shape!r}: {err}") from err
        return int(counter.get_total_flops())
    finally:
        model.train(was_training)


def edge_decomposition(space, measure, *, check: int = 20, seed: int = 0):
    """Exact per-(edge, op) contributions to a cell network's ``(params, flops)``.

    ``measure(ops)`` returns ``(params, flops)`` of the network of the cell with op
    ``ops[e]`` on edge ``e`` (a list with one op per edge of ``space``, a cell space
    whose ops include ``"none"``). Returns ``(base, contrib)``: ``base`` is the
    all-``none`` cell's pair and ``contrib`` an int array ``(edges, ops, 2)`` with
    ``measure(cell) == base + sum_e contrib[e, op_e]``. Raises if that sum misses a
    direct measurement on any of ``check`` random cells (drawn with ``seed``) or on the
    cell with ``"nor_conv_3x3"`` on every edge, when the space has that op.

    Examples
    --------
    >>> import nasviz as nv
    >>> space = nv.CellSpace()
    >>> base, contrib = edge_decomposition(space, lambda ops: (ops.count("nor_conv_3x3"), 0), check=3)
    >>> base.tolist(), contrib[:, space.ops.index("nor_conv_3x3"), 0].tolist()
    ([0, 0], [1, 1, 1, 1, 1, 1])
    """
    import numpy as np

    from .errors import InvalidArgumentError

    n_edges, ops = len(space.edges), list(space.ops)
    if "none" not in ops:
        raise InvalidArgumentError(f"the decomposition starts from the all-'none' cell; ops are {ops}")
    base = np.array(measure(["none"] * n_edges), dtype=np.int64)
    contrib = np.zeros((n_edges, len(ops), 2), dtype=np.int64)
    for e in range(n_edges):
        for k, op in enumerate(ops):
            if op != "none":
                cell = ["none"] * n_edges
                cell[e] = op
                contrib[e, k] = np.array(measure(cell), dtype=np.int64) - base
    rng = np.random.default_rng(seed)
    cells = [list(rng.choice(ops, size=n_edges)) for _ in range(check)]
    if "nor_conv_3x3" in ops:
        cells.append(["nor_conv_3x3"] * n_edges)
    for cell in cells:
        predicted = base + sum(contrib[e, ops.index(op)] for e, op in enumerate(cell))
        measured = np.array(measure(cell), dtype=np.int64)
        if not np.array_equal(predicted, measured):
            raise RuntimeError(f"params/FLOPs are not additive over edges for {cell}: "
                               f"predicted {predicted.tolist()}, measured {measured.tolist()}")
    return base, contrib
