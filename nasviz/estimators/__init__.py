"""Performance estimators: how a candidate is judged (see :class:`Estimator`)."""

from .base import Estimator, Result
from .predictor import Predictor
from .tabular import Tabular
from .training import Training
from .weight_sharing import WeightSharing
from .zero_cost import ZeroCost

__all__ = ["Estimator", "Predictor", "Result", "Tabular", "Training", "WeightSharing", "ZeroCost"]
