"""Where and with what code a build run trained: what its segment's first record says."""

from __future__ import annotations

import hashlib
import os
import platform
from pathlib import Path

__all__ = ["CODE_FILES", "MACRO_CODE_FILES", "code_files", "code_fingerprint", "machine"]

#: The source files whose code decides a run's numbers (besides torch), relative to the ``nasviz`` package:
#: their sha256 is journaled per build run.
CODE_FILES = ("estimators/training.py", "estimators/candidate.py", "estimators/chunks.py", "estimators/fit.py",
              "estimators/fused.py", "estimators/fused_layers.py", "estimators/fused_fit.py", "spaces/cell_model.py",
              "spaces/cell.py", "data.py", "bench/build/recipes.py", "minibatches.py")
#: What a build over a :class:`~nasviz.MacroSpace` adds to :data:`CODE_FILES`: the layer-chain network and the
#: member order (``space.index``, which numbers the journal's classes).
MACRO_CODE_FILES = ("spaces/macro.py", "spaces/macro_model.py", "spaces/macro_layers.py", "spaces/macro_counting.py",
                    "spaces/macro_choices.py", "spaces/macro_decisions.py")


def code_files(space_kind: str = "cell") -> tuple:
    """The source files behind a build over a space of ``space_kind`` (``Recipe.space_kind``)."""
    return CODE_FILES if space_kind == "cell" else CODE_FILES + MACRO_CODE_FILES


def code_fingerprint(files=CODE_FILES) -> str:
    """sha256 (first 16 hex digits) of ``files`` (default :data:`CODE_FILES`; a build over a MacroSpace adds
    :data:`MACRO_CODE_FILES`, :func:`code_files`): a build run records the code it trained with.

    The hash covers each file's path and bytes, so any edit to one of them (a comment
    included) or a move gives another fingerprint. A resumed build with other code (or
    another torch) gives numbers that differ from a one-go build by floating-point
    rounding, which a few epochs of training amplify to about the size of the seed
    noise; the journal keeps the fingerprint of every run.
    """
    root = Path(__file__).resolve().parents[2]  # the nasviz package
    h = hashlib.sha256()
    for name in files:
        h.update(name.encode() + b"\0" + (root / name).read_bytes() + b"\0")
    return h.hexdigest()[:16]


def machine() -> str:
    """One line: the OS, the CPU model, the number of logical CPUs and the torch version."""
    model = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    try:
        import torch

        tv = torch.__version__
    except ImportError:  # pragma: no cover
        tv = "?"
    return f"{platform.system()} {platform.machine()}, {model}, {os.cpu_count()} logical CPUs, torch {tv}"
