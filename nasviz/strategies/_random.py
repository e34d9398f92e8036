"""Random search: the baseline every NAS strategy must beat."""

from __future__ import annotations

from ..validation import check_bool
from ._common import TrackedStrategy

__all__ = ["RandomSearch"]


class RandomSearch(TrackedStrategy):
    """Uniformly random architectures, optionally without repeats.

    Random search is a strong NAS baseline (Li & Talwalkar, "Random Search and
    Reproducibility for Neural Architecture Search", UAI 2019; Bergstra & Bengio,
    JMLR 2012). It learns nothing from the results.

    Parameters
    ----------
    space : Space
        Any :class:`nasviz.spaces.Space`.
    unique : bool
        ``False`` (default): independent uniform draws, so a small space may see
        repeats. ``True``: never propose an architecture twice; ``finished`` becomes
        true once every member has been proposed.
    seed : int, numpy.random.Generator or None
        Seeds the strategy's own generator ``rng_``.

    Examples
    --------
    >>> import nasviz as nv
    >>> s = nv.strategies.RandomSearch(nv.CellSpace(), seed=0)
    >>> arch = s.ask()
    >>> s.tell(arch, nv.Result(score=0.5))
    >>> s.ask() != arch
    True
    """

    def __init__(self, space, *, unique=False, seed=None):
        super().__init__(space, seed=seed)
        self.unique = unique
        check_bool("unique", unique)

    def _keeps_asked(self) -> bool:
        return bool(self.unique)

    def ask(self):
        if self.unique:
            arch = self._sampler.unseen_or_raise(self.rng_, self._seen, "RandomSearch(unique=True)")
        else:
            arch = self._sampler.sample(self.rng_)
        return self._record_ask(arch)

    @property
    def finished(self) -> bool:
        return bool(self.unique) and len(self._seen) >= self._sampler.size
