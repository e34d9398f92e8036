"""Model size and cost: parameters and FLOPs of a ``torch.nn.Module``."""

from __future__ import annotations

from collections.abc import Sequence

from .errors import ShapeError

__all__ = ["count_params", "count_flops"]


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
