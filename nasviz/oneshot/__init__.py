"""One-shot NAS: a weight-sharing supernet over :class:`~nasviz.CellSpace`, and how its paths are sampled.

- :class:`Supernet` (:mod:`~nasviz.oneshot.supernet`): every cell of the space as one path
  through one network with shared weights; any path extracts as the stand-alone network
  ``space.build(arch)`` would make, holding the path's weights.
- :class:`UniformSampler`, :class:`FairSampler` (:mod:`~nasviz.oneshot.sampling`): SPOS's
  uniform single-path sampling and FairNAS's fair sampling, from their own seeded generator.
- :func:`train_supernet` (:mod:`~nasviz.oneshot.training`): one sampled path per step.

:class:`nasviz.estimators.WeightSharing` trains a supernet once and answers any cell with it.
Importing this package loads torch only when :class:`Supernet` or :class:`SuperCell` is first used.

Examples
--------
>>> import nasviz as nv
>>> from nasviz import oneshot
>>> oneshot.make_sampler("uniform", nv.CellSpace(), seed=0).sample() in nv.CellSpace()
True
"""

from __future__ import annotations

from .differentiable import DARTS, GDAS, DifferentiableHistory, DifferentiableSearch
from .sampling import SAMPLINGS, FairSampler, UniformSampler, make_sampler
from .training import train_supernet

__all__ = ["DARTS", "GDAS", "SAMPLINGS", "DifferentiableHistory", "DifferentiableSearch", "FairSampler", "SuperCell",
           "Supernet", "UniformSampler", "make_sampler", "train_supernet"]


def __getattr__(name: str):
    if name in ("Supernet", "SuperCell"):  # torch loads here, not at import
        from . import supernet

        return getattr(supernet, name)
    raise AttributeError(f"module 'nasviz.oneshot' has no attribute {name!r}")
