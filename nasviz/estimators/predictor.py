"""Learned predictors: a surrogate of the score, trained on architectures whose truth is known.

A predictor turns each architecture into a vector (``space.encode``: one-hot or path
encoding, optionally followed by zero-cost proxy scores) and fits a regression model
from those vectors to the scores measured so far. It then ranks any other candidate
in milliseconds. White et al., "How Powerful are Performance Predictors in Neural
Architecture Search?", NeurIPS 2021, compare 31 such predictors on NAS-Bench-201;
Krishnakumar et al., "NAS-Bench-Suite-Zero", NeurIPS 2022 Datasets and Benchmarks,
show that appending zero-cost proxy scores to the encoding helps most predictors.
``benchmarks/predictors.py`` measures nasviz's on ``nb201-12epoch`` and ``digits201``.

Examples
--------
>>> import nasviz as nv
>>> bench = nv.bench.load("nb201-12epoch")
>>> space = bench.space
>>> train = [space.sample(seed=i) for i in range(40)]
>>> pred = nv.estimators.Predictor(space, model="gbm", seed=0).fit(train, bench.query_many(train))
>>> r = pred.evaluate(space.sample(seed=1000))
>>> r.ok, 0.0 < r.score < 1.0, r.metrics["model"]
(True, True, 'gbm')
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Iterable, Mapping

import numpy as np

from ..errors import InvalidArgumentError, NasvizError, ShapeError, check_choice
from ..validation import check_seed
from .base import Estimator, Result

__all__ = ["MODELS", "Predictor"]

#: The regression models a :class:`Predictor` fits, and what each one is.
MODELS = {
    "gbm": "scikit-learn GradientBoostingRegressor: 300 trees of depth 3, learning rate 0.05, "
           "80% row subsampling",
    "gp": "scikit-learn GaussianProcessRegressor: ConstantKernel * Matern(nu=2.5) + WhiteKernel, "
          "hyper-parameters by maximum likelihood",
    "ensemble": "five scikit-learn MLPRegressor(hidden_layer_sizes=(64, 64)), each from its own seed; "
                "mean (and spread) of their predictions",
}
ENSEMBLE_SIZE = 5
MIN_FIT = 2  # architectures a fit needs at least


class Predictor(Estimator):
    """Score an architecture by a regression model fitted on architectures already scored.

    Parameters
    ----------
    space : Space or None
        The space whose ``encode`` makes the model's input; ``None`` means ``nv.CellSpace()``.
    model : {"gbm", "gp", "ensemble"}
        The regression model (see :data:`MODELS`): gradient-boosted trees, a Gaussian
        process, or an ensemble of five small feed-forward networks (as BANANAS uses).
    encoding : str
        Passed to ``space.encode``: ``"path"`` (CellSpace's path encoding, the default)
        or ``"onehot"`` (every space has it).
    features : sequence or None
        Zero-cost features appended to the encoding: proxy names (of
        ``nv.estimators.ZeroCost.available()``, computed with ``ZeroCost(name, data,
        space=space, seed=seed)``), or estimators whose ``evaluate_many`` scores become
        the features (for instance a ``ZeroCost`` built with other settings). Each
        feature goes through ``sign(x) * log(1 + |x|)`` and is standardised on the fit set.
    data : nasviz.data.Data or None
        The data the named features are computed on (the minibatch, the input shape
        and the number of classes of the networks); needed when ``features`` holds names.
    seed : int or None
        Seeds the model (and the named features' ``ZeroCost``): same seed, same fit,
        same predictions. No global random state is used.

    Attributes
    ----------
    models_ : list
        The fitted scikit-learn model(s) (five for ``"ensemble"``).
    n_features_in_ : int
        Length of the input vectors (encoding plus features).
    n_fit_ : int
        Architectures of the last :meth:`fit`.

    Notes
    -----
    :meth:`evaluate` returns ``Result(score=prediction, cost=measured seconds,
    metrics={"model", "n_fit"[, "std"][, features]})``; ``std`` is the spread of the
    ensemble's members or the Gaussian process's standard deviation, and each feature's
    raw value is recorded under its name (an estimator's ``name``, else its ``metric``,
    else its class name). The ``fidelity`` argument is ignored.
    Evaluating or predicting before :meth:`fit` raises, naming the call to make.

    Examples
    --------
    >>> import nasviz as nv
    >>> bench = nv.bench.load("nb201-12epoch")
    >>> space = bench.space
    >>> train = [space.sample(seed=i) for i in range(50)]
    >>> scores = bench.query_many(train)
    >>> a = nv.estimators.Predictor(space, model="gp", seed=0).fit(train, scores)
    >>> b = nv.estimators.Predictor(space, model="gp", seed=0).fit(train, scores)
    >>> test = [space.sample(seed=100 + i) for i in range(3)]
    >>> bool((a.predict(test) == b.predict(test)).all()), a.n_fit_     # same seed, same predictions
    (True, 50)
    >>> [r.ok and r.metrics["std"] > 0 for r in a.evaluate_many(test)]
    [True, True, True]
    >>> try:
    ...     nv.estimators.Predictor(space).evaluate(test[0])
    ... except nv.errors.NasvizError as err:
    ...     print(err)
    this Predictor is not fitted yet; call fit(archs, scores) with architectures whose scores are known first
    """

    def __init__(self, space=None, *, model="gbm", encoding="path", features=None, data=None, seed=0):
        self.space = space
        self.model = model
        self.encoding = encoding
        self.features = features
        self.data = data
        self.seed = seed
        self._space = _check_space(space)
        check_choice("predictor model", model, MODELS)
        if not isinstance(encoding, str):
            raise InvalidArgumentError(f"encoding must be a string such as 'path' or 'onehot', got {encoding!r}")
        self._space.encode(self._space.sample(seed=0), encoding)  # an unknown encoding fails now, naming the accepted
        check_seed("seed", seed)
        self._features = _feature_estimators(features, data, self._space, seed)
        self.models_ = None

    @staticmethod
    def available() -> tuple[str, ...]:
        """The model names, in :data:`MODELS` order."""
        return tuple(MODELS)

    @property
    def fidelity(self) -> str:
        extra = "" if not self._features else " + " + ", ".join(_feature_name(f) for f in self._features)
        fitted = "not fitted" if self.models_ is None else f"fitted on {self.n_fit_}"
        return f"predictor: {self.model} on {self.encoding} encoding{extra} ({fitted})"

    # -- fitting -------------------------------------------------------------------
    def fit(self, archs, scores) -> Predictor:
        """Fit the model on ``archs`` (architectures or their strings) and their ``scores``.

        ``scores`` are numbers (higher is better) or :class:`~nasviz.estimators.Result`
        objects (their ``score``), one per architecture, all finite. Refitting replaces
        the previous fit. Returns ``self``.
        """
        archs = self._archs(archs, "fit")
        y = _scores(scores, len(archs))
        if len(archs) < MIN_FIT:
            raise ShapeError(f"fit needs at least {MIN_FIT} architectures with their scores, got {len(archs)}; "
                             "evaluate a few (e.g. with nv.estimators.Tabular or Training) and fit on them")
        logged = _signed_log(self._feature_values(archs))
        self.feature_mean_ = logged.mean(axis=0)
        self.feature_scale_ = np.where(logged.std(axis=0) > 0, logged.std(axis=0), 1.0)
        X = self._matrix(archs, logged)
        self.y_mean_ = float(y.mean())
        self.y_scale_ = float(y.std()) or 1.0
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # convergence chatter on small fit sets
            self.models_ = [m.fit(X, (y - self.y_mean_) / self.y_scale_) for m in self._new_models()]
        self.n_features_in_ = X.shape[1]
        self.n_fit_ = len(archs)
        return self

    def _new_models(self) -> list:
        rng = np.random.default_rng(self.seed)
        seeds = [int(s) for s in rng.integers(2**31 - 1, size=ENSEMBLE_SIZE)]
        if self.model == "gbm":
            from sklearn.ensemble import GradientBoostingRegressor

            return [GradientBoostingRegressor(n_estimators=300, max_depth=3, learning_rate=0.05, subsample=0.8,
                                              random_state=seeds[0])]
        if self.model == "gp":
            from sklearn.gaussian_process import GaussianProcessRegressor
            from sklearn.gaussian_process.kernels import ConstantKernel, Matern, WhiteKernel

            kernel = (ConstantKernel(1.0, (1e-3, 1e3)) * Matern(2.0, (0.05, 1e3), nu=2.5)
                      + WhiteKernel(1e-1, (1e-6, 1.0)))
            return [GaussianProcessRegressor(kernel, random_state=seeds[0])]
        from sklearn.neural_network import MLPRegressor

        return [MLPRegressor(hidden_layer_sizes=(64, 64), learning_rate_init=0.01, alpha=1e-3, max_iter=500,
                             random_state=s) for s in seeds]

    # -- predicting ----------------------------------------------------------------
    def predict(self, archs, *, return_std: bool = False):
        """Predicted scores of ``archs`` (a numpy array, one per architecture, in order).

        With ``return_std=True``, also the model's uncertainty: the Gaussian process's
        standard deviation, the spread of the ensemble's members, zeros for ``"gbm"``.
        """
        self._check_fitted()
        archs = self._archs(archs, "predict", allow_empty=True)
        if not archs:
            empty = np.zeros(0)
            return (empty, empty.copy()) if return_std else empty
        X = self._matrix(archs, _signed_log(self._feature_values(archs)))
        mu, sigma = self._predict_matrix(X)
        return (mu, sigma) if return_std else mu

    def _predict_matrix(self, X):
        if self.model == "gp":
            mu, sigma = self.models_[0].predict(X, return_std=True)
        else:
            preds = np.stack([m.predict(X) for m in self.models_])
            mu, sigma = preds.mean(axis=0), preds.std(axis=0)
        return mu * self.y_scale_ + self.y_mean_, sigma * self.y_scale_

    def evaluate(self, arch, *, parent=None, fidelity=None) -> Result:
        self._check_fitted()  # a usage error, raised: not a failing candidate
        return super().evaluate(arch, parent=parent, fidelity=fidelity)

    def evaluate_many(self, archs, *, parents=None, fidelity=None) -> list[Result]:
        self._check_fitted()
        return super().evaluate_many(archs, parents=parents, fidelity=fidelity)

    def evaluate_one(self, arch, parent=None, fidelity=None) -> Result:
        return self._results([arch])[0]

    def evaluate_batch(self, archs, parents, fidelity=None) -> list[Result]:
        try:
            return self._results(archs)
        except Exception:  # noqa: BLE001 - a bad member or a failing feature: each alone, failing with its reason
            return [self.evaluate(a) for a in archs]

    def _results(self, archs) -> list[Result]:
        start = time.perf_counter()
        archs = [self._space.validate(a) for a in archs]
        raw = self._feature_values(archs)
        mu, sigma = self._predict_matrix(self._matrix(archs, _signed_log(raw)))
        cost = (time.perf_counter() - start) / max(len(archs), 1)
        out = []
        for j in range(len(archs)):
            metrics = {"model": self.model, "n_fit": self.n_fit_}
            if self.model != "gbm":
                metrics["std"] = float(sigma[j])
            metrics.update({_feature_name(f): float(raw[j, k]) for k, f in enumerate(self._features)})
            out.append(Result(score=float(mu[j]), cost=cost, metrics=metrics))
        return out

    # -- internals -----------------------------------------------------------------
    def _check_fitted(self):
        if self.models_ is None:
            raise InvalidArgumentError(f"this {type(self).__name__} is not fitted yet; call "
                                       "fit(archs, scores) with architectures whose scores are known first")

    def _archs(self, archs, what, allow_empty=False) -> list:
        if isinstance(archs, (str, bytes, Mapping)) or not isinstance(archs, Iterable):
            raise InvalidArgumentError(f"{what} needs a list of architectures (or their strings), got {archs!r}")
        archs = [self._space.validate(a) for a in archs]
        if not archs and not allow_empty:
            raise ShapeError(f"{what} needs at least {MIN_FIT} architectures with their scores, got none")
        return archs

    def _feature_values(self, archs) -> np.ndarray:
        """Raw feature values, shape ``(len(archs), len(features))``; raises if one fails."""
        columns = []
        for est in self._features:
            results = est.evaluate_many(archs)
            bad = [(a, r) for a, r in zip(archs, results) if not r.ok]
            if bad:
                arch, r = bad[0]
                raise NasvizError(f"feature {_feature_name(est)} failed for {arch}: {r.error}")
            columns.append([float(r.score) for r in results])
        return np.array(columns, dtype=float).T.reshape(len(archs), len(self._features))

    def _matrix(self, archs, logged) -> np.ndarray:
        """The model's input: encodings, then the standardised (signed-log) features."""
        codes = np.stack([np.asarray(self._space.encode(a, self.encoding), dtype=float) for a in archs])
        if not logged.shape[1]:
            return codes
        return np.hstack([codes, (logged - self.feature_mean_) / self.feature_scale_])


def _signed_log(values: np.ndarray) -> np.ndarray:
    """``sign(x) * log(1 + |x|)``: proxies span orders of magnitude (synflow reaches 1e30)."""
    return np.sign(values) * np.log1p(np.abs(values))


def _check_space(space):
    if space is None:
        from ..spaces import CellSpace

        return CellSpace()
    if not all(callable(getattr(space, m, None)) for m in ("encode", "sample", "validate")):
        raise InvalidArgumentError(f"space must be a nasviz Space (e.g. nv.CellSpace()) or None, got {space!r}")
    return space


def _feature_name(est) -> str:
    """A feature's name: the estimator's ``name`` (a proxy's), else its ``metric`` (a table's), else its class."""
    for attr in ("name", "metric"):
        if isinstance(getattr(est, attr, None), str):
            return getattr(est, attr)
    return type(est).__name__


def _feature_estimators(features, data, space, seed) -> list:
    """The estimators that compute ``features`` (names become ``ZeroCost`` estimators)."""
    if features is None:
        return []
    if isinstance(features, (str, bytes)) or not isinstance(features, (list, tuple)):
        raise InvalidArgumentError(f"features must be a list of zero-cost proxy names (e.g. ['synflow', 'naswot']) "
                                   f"or of estimators, or None; got {features!r}")
    from .zero_cost import PROXIES, ZeroCost

    out = []
    for f in features:
        if isinstance(f, str):
            check_choice("zero-cost feature", f, PROXIES)
            if data is None:
                raise InvalidArgumentError(f"feature {f!r} is a zero-cost proxy computed on data; pass data= "
                                           "(e.g. data=nv.data.digits()) or a ZeroCost estimator in features")
            out.append(ZeroCost(f, data, space=space, seed=seed))
        elif isinstance(f, Estimator):
            out.append(f)
        else:
            raise InvalidArgumentError(f"each feature must be a zero-cost proxy name or an estimator, got {f!r}; "
                                       f"accepted names: {', '.join(map(repr, PROXIES))}")
    names = [_feature_name(f) for f in out]
    if len(set(names)) != len(names):
        raise InvalidArgumentError(f"features must be distinct, got {names!r}")
    return out


def _scores(scores, n) -> np.ndarray:
    """``scores`` as a float array of length ``n`` (Results give their score), all finite."""
    if isinstance(scores, (str, bytes, Mapping)) or not isinstance(scores, Iterable):
        raise InvalidArgumentError(f"scores must be a list or array of numbers (or Results), got {scores!r}")
    if hasattr(scores, "detach") and hasattr(scores, "cpu"):  # a tensor
        scores = scores.detach().cpu().numpy()
    values = list(np.asarray(scores).reshape(-1)) if isinstance(scores, np.ndarray) else list(scores)
    if len(values) != n:
        raise ShapeError(f"archs and scores must have the same length; got {n} architectures and "
                         f"{len(values)} scores")
    out = np.empty(len(values))
    for i, v in enumerate(values):
        if isinstance(v, Result):
            if not v.ok:
                raise InvalidArgumentError(f"scores[{i}] is a failed Result ({v.error}); leave that architecture "
                                           "out of the fit")
            v = v.score
        if isinstance(v, (bool, np.bool_)) or not isinstance(v, (int, float, np.integer, np.floating)):
            raise InvalidArgumentError(f"scores[{i}] must be a number, got {v!r}")
        if not np.isfinite(v):
            raise InvalidArgumentError(f"scores must be finite numbers; scores[{i}] is {float(v)!r}: leave that "
                                       "architecture out of the fit")
        out[i] = float(v)
    return out
