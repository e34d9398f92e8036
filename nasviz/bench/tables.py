"""The tables that ship inside nasviz, and how to load them.

Each shipped table is an NPZ file in ``nasviz/bench/data/`` (see the README beside
this module for what each one is, its licence, and how it was made), read with
:meth:`Benchmark.read`. Nothing is downloaded.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from ..errors import InvalidFileError, UnknownNameError
from .benchmark import Benchmark

__all__ = [
    "DATA_DIR",
    "SIMULATED_FLOPS_PER_SECOND",
    "SIMULATED_TRAIN_IMAGES",
    "TABLES",
    "TRAIN_FLOPS_PER_FORWARD_FLOP",
    "available",
    "load",
    "simulated_seconds_per_epoch",
]

DATA_DIR = Path(__file__).resolve().parent / "data"

def sha256(path) -> str:
    """Hex sha256 of a file (the checksums below, the conversion and the build use it)."""
    import hashlib

    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


# name -> (file in DATA_DIR, its sha256 or None while the table is being built)
TABLES = {
    "nb201-12epoch": ("nb201-12epoch.npz", "b16aebc07ce8585742b6d329d8b7a5b923857d22d24b15609c1dddd7b973f199"),
    "digits201": ("digits201.npz", "62a7da8b08bb1bdd8e217da272c5d63f63c07a8e3c0259611f7b8916fbb81edf"),
}

#: Images in one simulated training epoch (CIFAR-10's training set).
SIMULATED_TRAIN_IMAGES = 50_000
#: A training step costs about three forward passes (forward, plus a backward pass of twice the work).
TRAIN_FLOPS_PER_FORWARD_FLOP = 3
#: Effective FLOP/s of the simulated GPU: a plausible sustained rate for these small
#: convolutional networks on one consumer GPU of NAS-Bench-201's time.
SIMULATED_FLOPS_PER_SECOND = 3e12


def simulated_seconds_per_epoch(flops):
    """Simulated seconds to train a network of ``flops`` forward FLOPs per image for one epoch.

    ``flops`` may be a number (gives a float) or an array (gives an array).

    A linear model, proportional to FLOPs: ``flops * 3 * 50,000 / 3e12``, i.e. one
    pass over CIFAR-10's 50,000 training images, each step costing three forward
    passes, on a GPU that sustains 3 TFLOP/s. It is a simulation, not a measurement:
    NAS-Bench-201's 12-epoch table records no training times. Real epochs also pay a
    fixed overhead (data loading) that this model leaves out, so it exaggerates the
    gap between small and large cells; NAS-Bench-201's largest cell (440 MFLOPs)
    comes out at 22 s per epoch.

    Examples
    --------
    >>> simulated_seconds_per_epoch(440e6)
    22.0
    """
    seconds = np.asarray(flops, dtype=np.float64) * (
        TRAIN_FLOPS_PER_FORWARD_FLOP * SIMULATED_TRAIN_IMAGES / SIMULATED_FLOPS_PER_SECOND)
    return float(seconds) if seconds.ndim == 0 else seconds


def available() -> list[str]:
    """Names of the tables shipped with this installation of nasviz.

    Examples
    --------
    >>> import nasviz as nv
    >>> "nb201-12epoch" in nv.bench.available()
    True
    """
    return [name for name, (file, _) in TABLES.items() if (DATA_DIR / file).is_file()]


def load(name) -> Benchmark:
    """Load a shipped table by name (see :func:`available`), or a table file written by
    :meth:`Benchmark.save` by its path.

    Examples
    --------
    >>> import nasviz as nv
    >>> bench = nv.bench.load("nb201-12epoch")
    >>> len(bench), bench.default_metric
    (15625, 'cifar10_val_acc')
    """
    if isinstance(name, os.PathLike) or (isinstance(name, str) and name.endswith(".npz")):
        if not Path(name).is_file():
            what = "is a directory, not a table file" if Path(name).is_dir() else "does not exist"
            raise InvalidFileError(f"no such benchmark file: {str(name)!r} {what}")
        return Benchmark.read(name)
    names = available()
    if not isinstance(name, str) or name not in names:
        note = ""
        if isinstance(name, str) and name in TABLES:
            note = f" (table {name!r} is not built in this installation: {TABLES[name][0]} is missing)"
        raise UnknownNameError(f"unknown benchmark {name!r}{note}; available: {', '.join(map(repr, names))}, "
                               "or the path of a .npz file written by Benchmark.save")
    return Benchmark.read(DATA_DIR / TABLES[name][0])
