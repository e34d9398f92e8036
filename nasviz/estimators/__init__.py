"""Performance estimators: how a candidate is judged (see :class:`Estimator`)."""

from .base import Estimator, Result

__all__ = ["Estimator", "Result"]
