"""Which path of a supernet trains at each step: uniform (SPOS) or fair (FairNAS) sampling.

A one-shot supernet is trained one *path* (one cell architecture) per optimizer step.
Two classic ways of choosing it:

- :class:`UniformSampler` -- single-path one-shot (SPOS; Guo et al., "Single Path One-Shot
  Neural Architecture Search with Uniform Sampling", ECCV 2020): at every step, every
  edge's op is drawn uniformly and independently. Each op is trained equally often *in
  expectation*.
- :class:`FairSampler` -- FairNAS (Chu et al., "FairNAS: Rethinking Evaluation Fairness of
  Weight Sharing Neural Architecture Search", ICCV 2021): steps come in blocks of
  ``len(ops)``; at the start of a block every edge draws a random permutation of the ops,
  and step ``t`` of the block takes the ``t``-th op of each edge's permutation. Over every
  block each op is on every edge exactly once: no op falls behind, not even for a while.
  (FairNAS itself accumulates the gradients of a block's paths on one minibatch and makes
  one update; here each path of a block gets its own minibatch and update, so both samplers
  cost the same per step.)

Both own a ``numpy.random.Generator`` made from their ``seed``: same seed, same paths.
``train_none=False`` leaves the ``none`` op (zero) out of the paths trained. SPOS samples
every op of its space, and ``none`` has no weights to train, so the default keeps it: a path
with ``none`` edges trains the weights of its other edges in the context of a sparser cell,
as the stand-alone cell would be trained. Which ranks cells better depends on the task:
``benchmarks/weight_sharing.py`` prints both.

Examples
--------
>>> import nasviz as nv
>>> space = nv.CellSpace()
>>> fair = FairSampler(space, seed=0)
>>> block = [fair.sample() for _ in range(len(space.ops))]
>>> all(sorted(a.ops[e] for a in block) == sorted(space.ops) for e in range(6))
True
>>> UniformSampler(space, seed=1).sample() == UniformSampler(space, seed=1).sample()
True
"""

from __future__ import annotations

import numpy as np

from ..errors import InvalidArgumentError, check_choice
from ..validation import check_bool, make_rng

__all__ = ["SAMPLINGS", "FairSampler", "UniformSampler", "make_sampler"]


class _PathSampler:
    """What both samplers share: the space, the ops they draw from, their generator."""

    def __init__(self, space, *, train_none: bool = True, seed=None):
        from ..spaces.cell import CellSpace

        self.space = space
        self.train_none = train_none
        self.seed = seed
        if not isinstance(space, CellSpace):
            raise InvalidArgumentError(f"path sampling needs a CellSpace (e.g. nv.CellSpace()), got {space!r}")
        check_bool("train_none", train_none)
        ops = tuple(op for op in space.ops if train_none or op != "none")
        if not ops:
            raise InvalidArgumentError(f"train_none=False leaves no op of {space!r} to train; pass train_none=True")
        self.ops_ = ops
        self.rng_ = make_rng("seed", seed)
        self.n_sampled_ = 0

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.space!r}, train_none={self.train_none!r}, seed={self.seed!r})"

    def sample(self):
        """The path (a :class:`~nasviz.CellArchitecture`) of the next training step."""
        picks = self._next_picks()
        self.n_sampled_ += 1
        return self.space.from_ops([self.ops_[int(k)] for k in picks])

    def _next_picks(self) -> np.ndarray:
        raise NotImplementedError


class UniformSampler(_PathSampler):
    """SPOS: every edge's op drawn uniformly and independently at every step.

    Parameters
    ----------
    space : CellSpace
        The supernet's space.
    train_none : bool
        Whether paths may carry ``none`` (default True: every op of the space).
    seed : int, numpy.random.Generator or None
        Seeds the sampler's own generator ``rng_``.

    Examples
    --------
    >>> import nasviz as nv
    >>> s = UniformSampler(nv.CellSpace(), train_none=False, seed=0)
    >>> any("none" in s.sample().ops for _ in range(50))
    False
    """

    def _next_picks(self) -> np.ndarray:
        return self.rng_.integers(len(self.ops_), size=len(self.space.edges))


class FairSampler(_PathSampler):
    """FairNAS: over each block of ``len(ops)`` steps, every op on every edge exactly once.

    At the first step of a block, each edge draws a random permutation of the ops; step
    ``t`` of the block takes position ``t`` of every edge's permutation.

    Parameters
    ----------
    space : CellSpace
        The supernet's space.
    train_none : bool
        Whether paths may carry ``none`` (default True; with False blocks are one step shorter).
    seed : int, numpy.random.Generator or None
        Seeds the sampler's own generator ``rng_``.

    Examples
    --------
    >>> import nasviz as nv
    >>> space = nv.CellSpace()
    >>> s = FairSampler(space, seed=0)
    >>> s.block_size, sorted(s.sample().ops[0] for _ in range(5)) == sorted(space.ops)
    (5, True)
    """

    @property
    def block_size(self) -> int:
        """Steps per block: the number of ops sampled from."""
        return len(self.ops_)

    def _next_picks(self) -> np.ndarray:
        t = self.n_sampled_ % self.block_size
        if t == 0:
            self.block_ = np.stack([self.rng_.permutation(self.block_size) for _ in self.space.edges])
        return self.block_[:, t]


#: Sampling name -> sampler class (``WeightSharing(sampling=...)``).
SAMPLINGS = {"uniform": UniformSampler, "fair": FairSampler}


def make_sampler(name: str, space, *, train_none: bool = True, seed=None):
    """The sampler called ``name`` (one of :data:`SAMPLINGS`) on ``space``.

    Examples
    --------
    >>> import nasviz as nv
    >>> make_sampler("fair", nv.CellSpace(), seed=0)
    FairSampler(CellSpace(), train_none=True, seed=0)
    """
    check_choice("sampling", name, SAMPLINGS)
    return SAMPLINGS[name](space, train_none=train_none, seed=seed)
