"""Search strategies, one per module, all ask/tell (see :class:`Strategy`)."""

from .base import Strategy

__all__ = ["Strategy"]
