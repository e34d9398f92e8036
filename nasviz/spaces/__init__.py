"""Search spaces: what can be built. See :class:`Space` for the protocol a space implements."""

from .base import Architecture, Decision, Space
from .cell import NB201_OPS, CellArchitecture, CellSpace

__all__ = ["Architecture", "Decision", "Space", "CellSpace", "CellArchitecture", "NB201_OPS",
           "MacroSpace", "MacroArchitecture"]


def __getattr__(name):
    if name in ("MacroSpace", "MacroArchitecture"):
        from . import macro

        return getattr(macro, name)
    raise AttributeError(f"module 'nasviz.spaces' has no attribute {name!r}")
