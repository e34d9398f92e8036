"""Bayesian optimisation over architecture encodings."""

from __future__ import annotations

import contextlib
import math
import warnings

import numpy as np

from ..errors import check_choice, check_positive_int
from ._common import TrackedStrategy

__all__ = ["BayesianOptimization"]

ACQUISITIONS = ("ei", "ucb", "pi", "its")
SURROGATES = ("gp", "ensemble")
UCB_KAPPA = 2.0
ENSEMBLE_SIZE = 5
ENSEMBLE_LAYERS = (20,) * 10  # BANANAS' networks: 10 layers of 20 units
TOP = 5  # the pool holds neighbours of this many best architectures
_BLAS = None


def _one_blas_thread():
    """Small dense algebra runs fastest on one thread (and does not fight other work)."""
    global _BLAS
    if _BLAS is None:
        try:
            from threadpoolctl import ThreadpoolController  # installed with scikit-learn
        except ImportError:  # pragma: no cover
            return contextlib.nullcontext()
        import scipy.linalg  # noqa: F401  (load every BLAS before the controller lists them)
        import sklearn.gaussian_process  # noqa: F401

        _BLAS = ThreadpoolController()
    return _BLAS.limit(limits=1, user_api="blas")


class BayesianOptimization(TrackedStrategy):
    """Bayesian optimisation: a surrogate of the score, maximised through an acquisition.

    After ``initial`` random architectures, each ask scores a pool of candidates with
    an acquisition function of a surrogate model's prediction, and proposes the best
    candidate. The surrogate is fitted on ``space.encode(arch, encoding)`` of every
    successfully told architecture, only when a result is told, so asks stay fast.
    See Shahriari et al., "Taking the Human Out of the Loop: A Review of Bayesian
    Optimization", Proc. IEEE 2016, and for NAS White, Neiswanger & Savani,
    "BANANAS: Bayesian Optimization with Neural Architectures for Neural
    Architecture Search", AAAI 2021 (candidate pools from mutations of the best
    architectures, ensembles of neural networks as surrogate, path encodings).

    Surrogates:

    - ``"gp"``: scikit-learn's ``GaussianProcessRegressor`` with kernel
      ``ConstantKernel * Matern(nu=2.5) + WhiteKernel`` (one isotropic length-scale:
      on one-hot encodings the distance counts differing decisions; the white
      noise absorbs training noise), ``normalize_y=True``. Its hyper-parameters are
      fitted by maximum likelihood, starting from the previous fit, after each of
      the first 20 results and every 10th one after that; in between the
      previous hyper-parameters are kept (refitting only the posterior).
    - ``"ensemble"``: five ``MLPRegressor`` networks of 10 layers of 20 units (BANANAS'
      surrogate), each trained on every result from its own initial weights; mean and
      spread of their predictions. Slower to refit than the GP: see ``refit_every``.

    Acquisitions (``mu``, ``sigma``: the surrogate's mean and standard deviation;
    ``best``: best score told so far):

    - ``"ei"``: expected improvement over ``best`` (Jones et al. 1998);
    - ``"ucb"``: upper confidence bound ``mu + 2 sigma`` (Srinivas et al. 2010);
    - ``"pi"``: probability of improvement over ``best`` (Kushner 1964);
    - ``"its"``: independent Thompson sampling, BANANAS' acquisition: one draw from
      ``Normal(mu, sigma)`` per candidate, independently (not a joint posterior
      sample), and the largest draw wins. Each ask draws afresh, so asks made from the
      same fit (several workers, or ``refit_every > 1``) spread over the pool.

    The candidate pool holds up to ``pool // 2`` mutations of the five best
    architectures told so far (a random subset of their neighbours: one decision
    changed) and random architectures for the rest; evaluated and pending
    architectures are left out, so nothing is proposed twice while the space has
    other members, and so are candidates whose encoding equals that of an asked
    architecture or of another candidate (the path encoding gives cells that compute
    the same function one vector, as BANANAS removes isomorphic candidates).
    Failed results are left out of the surrogate (and never re-proposed).

    **BANANAS.** White et al.'s algorithm is this class with ``surrogate="ensemble",
    encoding="path", acquisition="its", refit_every=10`` (BANANAS trains its ensemble
    once per batch of 10 evaluations; here the asks between two fits use the last fit,
    each with its own Thompson draws). It is an option of this class rather than a
    strategy of its own: surrogate, acquisition, pool and encoding are the four parts
    of any BO for NAS, and BANANAS is one choice of each, so a separate class would
    repeat all of this one. Two differences remain: BANANAS trains its networks with a
    mean absolute error, scikit-learn's MLPs with a squared error; and its pool holds
    mutations only, nasviz's half mutations and half random architectures (with the GP
    on nb201-12epoch, a pool of mutations only did no better over 20 seeds, and one of
    mutations of up to 3 decisions did worse). ``benchmarks/strategies.py`` races it as
    ``bananas``, and ``bo-its`` (the GP with Thompson sampling).

    Parameters
    ----------
    space : Space
        Any :class:`nasviz.spaces.Space`.
    initial : int
        Random architectures before the surrogate takes over (at least 2 successful
        results are needed to fit it).
    pool : int
        Candidates scored by the acquisition at each ask.
    acquisition : {"ei", "ucb", "pi", "its"}
    surrogate : {"gp", "ensemble"}
    encoding : str
        Passed to ``space.encode`` (``"onehot"``; CellSpace also has ``"path"``).
    refit_every : int
        Refit the surrogate after every ``refit_every`` successful results. With 1 (the
        default), after each one; with more, first when the ``initial`` random asks
        are made, then after every ``refit_every`` results (BANANAS: 10). Larger values
        make a run cheaper, mostly for ``"ensemble"``.
    seed : int, numpy.random.Generator or None
        Seeds the strategy's own generator ``rng_``.

    Examples
    --------
    >>> import nasviz as nv
    >>> space = nv.CellSpace()
    >>> s = nv.strategies.BayesianOptimization(space, initial=4, pool=50, seed=0)
    >>> for _ in range(6):
    ...     a = s.ask()
    ...     s.tell(a, nv.Result(score=a.ops.count("nor_conv_3x3") / 6))
    >>> len(s.observations_)
    6
    """

    def __init__(self, space, *, initial=10, pool=200, acquisition="ei", surrogate="gp",
                 encoding="onehot", refit_every=1, seed=None):
        super().__init__(space, seed=seed)
        self.initial = initial
        self.pool = pool
        self.acquisition = acquisition
        self.surrogate = surrogate
        self.encoding = encoding
        self.refit_every = refit_every
        check_positive_int("initial", initial)
        check_positive_int("pool", pool)
        check_choice("acquisition", acquisition, ACQUISITIONS)
        check_choice("surrogate", surrogate, SURROGATES)
        check_positive_int("refit_every", refit_every)
        self.observations_ = []  # (arch, score) of successful tells, in told order
        self.n_fitted_ = 0  # observations the surrogate was last fitted on (the first n_fitted_)
        self.fit_seed_ = None  # seeded the ensemble's last fit (one draw per told result)
        self.theta_ = None  # the GP kernel's fitted (log) hyper-parameters
        self.model_ = None
        self._codes = {}
        self._nbr_cache = {}
        space.encode(space.sample(seed=0), encoding)  # fail now on an unknown encoding

    # -- surrogate -----------------------------------------------------------------
    def _encode(self, arch):
        code = self._codes.get(arch)
        if code is None:
            if len(self._codes) > 20000:  # keep the cache to the observations
                self._codes = {a: self._codes[a] for a, _ in self.observations_ if a in self._codes}
            code = self._codes[arch] = np.asarray(self.space.encode(arch, self.encoding), dtype=float)
        return code

    def _fit(self, optimize=True):
        observations = self.observations_[:self.n_fitted_]
        if len(observations) < 2:
            self.model_ = None
            return
        X = np.stack([self._encode(a) for a, _ in observations])
        y = np.array([s for _, s in observations], dtype=float)
        with warnings.catch_warnings(), _one_blas_thread():
            warnings.simplefilter("ignore")  # convergence chatter on tiny data sets
            if self.surrogate == "gp":
                from sklearn.gaussian_process import GaussianProcessRegressor
                from sklearn.gaussian_process.kernels import ConstantKernel, Matern, WhiteKernel

                kernel = (ConstantKernel(1.0, (1e-3, 1e3)) * Matern(2.0, (0.05, 1e3), nu=2.5)
                          + WhiteKernel(1e-2, (1e-8, 1.0)))
                n = len(y)
                if self.theta_ is None or (optimize and (n <= 20 or n % 10 == 0)):
                    start = kernel if self.theta_ is None else kernel.clone_with_theta(np.array(self.theta_))
                    fitted = GaussianProcessRegressor(start, normalize_y=True).fit(X, y)
                    self.theta_ = [float(t) for t in fitted.kernel_.theta]
                # the posterior always comes from theta_ alone, so a restored state rebuilds it exactly
                self.model_ = GaussianProcessRegressor(kernel.clone_with_theta(np.array(self.theta_)),
                                                       normalize_y=True, optimizer=None).fit(X, y)
            else:
                from sklearn.neural_network import MLPRegressor

                rng = np.random.default_rng(self.fit_seed_)
                y_mean, y_std = y.mean(), y.std() or 1.0
                models = []
                for k in range(ENSEMBLE_SIZE):  # all results each: the members differ by their initial weights
                    net = MLPRegressor(hidden_layer_sizes=ENSEMBLE_LAYERS, learning_rate_init=0.01, max_iter=300,
                                       random_state=int(rng.integers(2**31)))
                    models.append(net.fit(X, (y - y_mean) / y_std))
                self.model_ = (models, y_mean, y_std)

    def _predict(self, X):
        with _one_blas_thread():
            if self.surrogate == "gp":
                return self.model_.predict(X, return_std=True)
            models, y_mean, y_std = self.model_
            preds = np.stack([m.predict(X) for m in models]) * y_std + y_mean
        return preds.mean(axis=0), preds.std(axis=0)

    def _acquire(self, mu, sigma, best):
        from scipy.special import ndtr

        if self.acquisition == "ucb":
            return mu + UCB_KAPPA * sigma
        if self.acquisition == "its":
            return mu + sigma * self.rng_.standard_normal(len(mu))
        sigma = np.maximum(sigma, 1e-12)
        z = (mu - best) / sigma
        if self.acquisition == "pi":
            return ndtr(z)
        return (mu - best) * ndtr(z) + sigma * np.exp(-0.5 * z * z) / math.sqrt(2 * math.pi)

    # -- asking --------------------------------------------------------------------
    def _neighbors(self, arch):
        nbrs = self._nbr_cache.get(arch)
        if nbrs is None:
            nbrs = self._nbr_cache[arch] = list(self.space.neighbors(arch))
        return nbrs

    def _candidates(self):
        top = [a for a, _ in sorted(self.observations_, key=lambda o: -o[1])[:TOP]]  # stable sort
        self._nbr_cache = {a: self._nbr_cache[a] for a in top if a in self._nbr_cache}
        out, seen = [], set(self._seen)
        codes = {self._encode(a).tobytes() for a in self._seen}  # an encoding asked already: nothing new to learn

        def fresh(arch):
            if arch in seen:
                return False
            seen.add(arch)
            code = self._encode(arch).tobytes()
            if code in codes:
                return False
            codes.add(code)
            return True

        for parent in top:
            out.extend(arch for arch in self._neighbors(parent) if fresh(arch))
        half = self.pool // 2
        if len(out) > half:
            out = [out[int(i)] for i in np.sort(self.rng_.choice(len(out), size=half, replace=False))]
        for _ in range(self.pool - len(out)):
            arch = self.space.sample(seed=self.rng_)
            if fresh(arch):
                out.append(arch)
        return out

    def ask(self):
        if self.n_asked_ < self.initial or self.model_ is None:
            return self._record_ask(self._unseen_or_any())
        cands = self._candidates()
        if not cands:
            return self._record_ask(self._unseen_or_any())
        mu, sigma = self._predict(np.stack([self._encode(a) for a in cands]))
        best = max(s for _, s in self.observations_)
        values = self._acquire(mu, sigma, best)
        return self._record_ask(cands[int(np.argmax(values))])

    def _on_tell(self, arch, score, payload):
        if score is None:
            return
        self.observations_.append((arch, score))
        fit_seed = int(self.rng_.integers(2**63)) if self.surrogate == "ensemble" else None  # one draw per tell
        n = len(self.observations_)
        due = self.model_ is None or n - self.n_fitted_ >= self.refit_every
        needed = self.refit_every == 1 or self.n_asked_ >= self.initial  # k > 1: no fit the random asks ignore
        if n >= 2 and due and needed:
            self.n_fitted_, self.fit_seed_ = n, fit_seed
            self._fit()

    # -- state ---------------------------------------------------------------------
    def state_dict(self) -> dict:
        state = super().state_dict()
        state["observations"] = [[str(a), s] for a, s in self.observations_]
        state["fit_seed"] = self.fit_seed_
        state["theta"] = self.theta_
        state["n_fitted"] = self.n_fitted_
        return state

    def load_state_dict(self, state: dict) -> None:
        super().load_state_dict(state)
        self.observations_ = [(self.space.from_string(a), s) for a, s in state["observations"]]
        self.fit_seed_ = state["fit_seed"]
        self.theta_ = state["theta"]
        self.n_fitted_ = state.get("n_fitted", len(self.observations_))  # journals written before refit_every
        self._fit(optimize=False)  # the same model as before: same data, same hyper-parameters
