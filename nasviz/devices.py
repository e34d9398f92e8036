"""Which device to compute on: ``device="auto"`` and its friends.

Estimators and the command line resolve their ``device`` argument here, so that
``"auto"`` means the same everywhere: ``"cuda"`` when PyTorch sees a CUDA GPU,
else ``"cpu"``. torch is imported inside the functions.

Examples
--------
>>> from nasviz.devices import auto_device, resolve_device
>>> auto_device() in ("cuda", "cpu")
True
>>> resolve_device("cpu")
'cpu'
"""

from __future__ import annotations

import contextlib
import re

from .errors import InvalidArgumentError

__all__ = ["auto_device", "is_out_of_memory", "resolve_device", "torch_threads"]

_ACCEPTED = "'auto', 'cpu', 'cuda' or 'cuda:N'"


def auto_device() -> str:
    """The device ``device="auto"`` chooses: ``"cuda"`` if ``torch.cuda.is_available()``, else ``"cpu"``."""
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


def resolve_device(device="auto") -> str:
    """A device string for ``torch``: ``"auto"`` becomes :func:`auto_device`.

    Accepts ``"auto"``, ``"cpu"``, ``"cuda"``, ``"cuda:N"`` or a ``torch.device``.
    Asking for CUDA on a machine without it raises
    :class:`~nasviz.errors.InvalidArgumentError` saying to use ``"auto"`` or ``"cpu"``.

    Examples
    --------
    >>> resolve_device("auto") in ("cuda", "cpu")
    True
    >>> try:
    ...     resolve_device("tpu")
    ... except ValueError as err:
    ...     print(err)
    unknown device 'tpu'; accepted: 'auto', 'cpu', 'cuda' or 'cuda:N'
    """
    name = str(device) if type(device).__name__ == "device" else device
    if not isinstance(name, str) or not re.fullmatch(r"auto|cpu|cuda(:\d+)?", name):
        raise InvalidArgumentError(f"unknown device {device!r}; accepted: {_ACCEPTED}")
    if name == "auto":
        return auto_device()
    if name.startswith("cuda"):
        import torch

        if not torch.cuda.is_available():
            raise InvalidArgumentError(
                f"device {name!r} asked for, but PyTorch sees no CUDA GPU here; use device='auto' or 'cpu'"
            )
        index = int(name.partition(":")[2] or 0)
        if index >= torch.cuda.device_count():
            raise InvalidArgumentError(
                f"device {name!r}: this machine has {torch.cuda.device_count()} CUDA device(s), "
                f"numbered from 0; use 'cuda' or 'auto'"
            )
    return name


@contextlib.contextmanager
def torch_threads(n: int | None):
    """Run the body with ``torch.set_num_threads(n)``; the previous count comes back afterwards.

    On the tiny networks nasviz trains, one thread per process beats two (and a process
    per core beats both), so builds and benchmarks run their workers with ``n=1``.
    ``None`` leaves the count alone.

    Examples
    --------
    >>> import torch
    >>> before = torch.get_num_threads()
    >>> with torch_threads(1):
    ...     torch.get_num_threads()
    1
    >>> torch.get_num_threads() == before
    True
    """
    if n is None:
        yield
        return
    from .errors import check_positive_int

    n = check_positive_int("threads", n)
    import torch

    old = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(old)


def is_out_of_memory(err: BaseException) -> bool:
    """Whether ``err`` says host or GPU memory ran out.

    ``MemoryError``, ``torch.cuda.OutOfMemoryError`` (recognised by name, so torch need
    not be loaded), and the ``RuntimeError`` texts of PyTorch's allocators ("CUDA out of
    memory", "can't allocate memory").

    Examples
    --------
    >>> is_out_of_memory(RuntimeError("DefaultCPUAllocator: can't allocate memory: you tried 8 GB"))
    True
    >>> is_out_of_memory(ValueError("bad shape"))
    False
    """
    if isinstance(err, MemoryError) or type(err).__name__ == "OutOfMemoryError":
        return True
    text = str(err).lower()
    return isinstance(err, RuntimeError) and ("out of memory" in text or "can't allocate memory" in text)
