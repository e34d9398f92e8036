"""ProxyLab: score real networks with cheap proxies and compare their ranking with the truth."""

from __future__ import annotations

import html
import math
import re
import threading
from collections.abc import Mapping

import ipywidgets as W
import numpy as np

from ..errors import InvalidArgumentError, UnknownNameError
from ._common import Throttle, WidgetBase, int_value, new_figure, show_figure, show_text, table_html

__all__ = ["SUPERNET_PROXIES", "TRAINING_PROXIES", "ProxyLab", "proxy_stats", "top_k_hit_rate"]

#: Training fidelities offered beside the zero-cost proxies: ``train-<epochs>ep[-<pixels>px][-<percent>pct]``.
TRAINING_PROXIES = ("train-1ep", "train-2ep", "train-1ep-4px", "train-1ep-25pct")
_TRAIN = re.compile(r"^train-(\d+)ep(?:-(\d+)px)?(?:-(\d+)pct)?$")
#: Weight sharing offered beside them: ``supernet-<epochs>ep``, one supernet trained for that many epochs (paths
#: without ``none``, which ranks better on these tables: ``benchmarks/weight_sharing.py``), every cell judged with it.
SUPERNET_PROXIES = ("supernet-20ep",)
_SUPERNET = re.compile(r"^supernet-(\d+)ep$")
CHUNK = 10  # architectures scored between two looks at the Stop button


def top_k_hit_rate(scores, truth, k: int) -> float:
    """Share of the ``k`` truly best architectures that the proxy also puts in its top ``k``.

    Ties are broken by position (the earlier first), in both rankings.

    Examples
    --------
    >>> top_k_hit_rate([0.1, 0.9, 0.8, 0.2], [1, 4, 2, 3], k=2)
    0.5
    """
    scores, truth = np.asarray(scores, dtype=float), np.asarray(truth, dtype=float)
    k = min(int(k), len(scores))
    if k < 1:
        return math.nan
    by_proxy = set(np.argsort(-scores, kind="stable")[:k].tolist())
    by_truth = set(np.argsort(-truth, kind="stable")[:k].tolist())
    return len(by_proxy & by_truth) / k


def proxy_stats(scores, truth, costs, k: int = 5) -> dict:
    """How well a proxy ranks: ``spearman``, ``kendall`` (scipy.stats), ``top_k`` hit rate,
    ``cost`` (mean seconds per architecture), ``n`` (finite pairs), ``failed``.

    Non-finite scores (failed evaluations) are left out of the rank statistics.

    Examples
    --------
    >>> s = proxy_stats([1, 2, 3, 4], [0.1, 0.3, 0.2, 0.4], [0.5, 0.5, 0.5, 0.5], k=2)
    >>> round(s["spearman"], 2), round(s["kendall"], 2), s["top_k"], s["cost"]
    (0.8, 0.67, 0.5, 0.5)
    """
    from scipy import stats

    scores, truth = np.asarray(scores, dtype=float), np.asarray(truth, dtype=float)
    ok = np.isfinite(scores) & np.isfinite(truth)
    n = int(ok.sum())
    if n >= 2 and np.ptp(scores[ok]) > 0 and np.ptp(truth[ok]) > 0:
        rho = float(stats.spearmanr(scores[ok], truth[ok]).statistic)
        tau = float(stats.kendalltau(scores[ok], truth[ok]).statistic)
    else:
        rho = tau = math.nan
    return {"spearman": rho, "kendall": tau, "top_k": top_k_hit_rate(scores[ok], truth[ok], k),
            "cost": float(np.mean(costs)) if len(costs) else math.nan, "n": n,
            "failed": int((~np.isfinite(scores)).sum())}


class ProxyLab(WidgetBase):
    """Do cheap proxies rank architectures like the truth? Score a sample and see.

    A seeded sample of architectures is drawn from the ground-truth table; each chosen
    proxy scores the real networks (zero-cost proxies at initialisation, or short
    training runs at a lower fidelity), in a background thread. Each proxy gets a
    scatter plot against the ground truth, with Spearman's rho and Kendall's tau, and a
    table row with its cost per architecture and its top-k hit rate.

    Parameters
    ----------
    truth : Benchmark, str, mapping or None
        The ground truth: a table (or a shipped table's name), or ``{architecture:
        value}``. None: ``"digits201"`` when it ships (networks trained on the same
        digits), else ``"nb201-12epoch"``.
    data : nasviz.data.Data, optional
        The images the networks see (default ``nv.data.digits()``); training proxies
        with ``px``/``pct`` in their name use digits at that resolution and subset.
    proxies : sequence
        Selected at first: zero-cost names (``ZeroCost.available()``), training
        fidelities ``"train-<epochs>ep[-<pixels>px][-<percent>pct]"`` (see
        :data:`TRAINING_PROXIES`), a weight-sharing supernet ``"supernet-<epochs>ep"``
        (:data:`SUPERNET_PROXIES`; cell spaces), or Estimator objects (or ``{label: estimator}``).
        When the table has a build recipe (``nv.bench.recipe(name)``, e.g. digits201's),
        the proxies score the recipe's networks (its width and depth) and training
        fidelities train with its settings, so that only the fidelity differs from the
        ground truth; otherwise ``Training``'s and ``ZeroCost``'s defaults apply.
    sample_size : int
        Architectures to score.
    metric : str, optional
        The table's metric (default: its default metric).
    top_k : int
        ``k`` of the top-k hit rate.
    seed : int
        Seeds the sample (a generator made from it) and the proxies.

    Attributes
    ----------
    proxies_select : ipywidgets.SelectMultiple
        Every proxy on offer, all rows shown; several are chosen with Ctrl/Cmd- or
        Shift-click (``select_hint`` says so).
    select_hint : ipywidgets.HTML
    sample_text, top_k_text, seed_text : ipywidgets.IntText
    run_button, stop_button : ipywidgets.Button
    progress : ipywidgets.IntProgress
        Architecture scores done, out of sample size x proxies; its description
        reads ``"k / n scored"``.
    plot : ipywidgets.Output
    table, note, status, message : ipywidgets.HTML
        ``status``: ``"scoring"``, ``"finished"``, or after Stop ``"stopped"`` with the
        proxies cut short and those that never ran (``"stopped: not run: snip, grasp"``).
    sample_ : list
        The architectures of the last run.
    truth_ : numpy.ndarray
        Their ground truth.
    results_ : dict of str -> dict
        Per proxy: ``scores``, ``costs`` (arrays over the sample, NaN where not scored)
        and ``stats`` (:func:`proxy_stats`).

    Examples
    --------
    >>> import nasviz as nv
    >>> lab = nv.widgets.ProxyLab("nb201-12epoch", proxies=("params",), sample_size=10)
    >>> lab.run_button.click()
    >>> lab.wait(120)
    True
    >>> sorted(lab.results_), len(lab.sample_)
    (['params'], 10)
    """

    _params = ("truth", "data", "proxies", "sample_size", "metric", "top_k", "seed")

    def __init__(self, truth=None, data=None, proxies=("synflow", "naswot", "snip", "params"), sample_size=50,
                 metric=None, top_k=5, seed=0):
        self.truth = truth
        self.data = data
        self.proxies = proxies
        self.sample_size = sample_size
        self.metric = metric
        self.top_k = top_k
        self.seed = seed
        self._init_common()
        self._resolve_truth(truth, metric)
        self.options_ = self._proxy_options(proxies)
        self.sample_ = []
        self.truth_ = np.array([])
        self.results_: dict = {}
        self._stop = threading.Event()
        self._throttle = Throttle(self._refresh, interval=0.25)

        wide = {"description_width": "initial"}
        chosen = [label for label in self.options_ if label in self._initial]
        self.proxies_select = W.SelectMultiple(options=list(self.options_), value=tuple(chosen),
                                               description="proxies", rows=len(self.options_), style=wide,
                                               layout=W.Layout(width="260px"))
        self.select_hint = W.HTML("<span style='font-size:11px;color:#555'>Ctrl/Cmd-click or Shift-click to "
                                  "choose several</span>")
        self.sample_text = W.IntText(value=sample_size, description="sample size", style=wide,
                                     layout=W.Layout(width="150px"))
        self.top_k_text = W.IntText(value=top_k, description="top k", style=wide, layout=W.Layout(width="110px"))
        self.seed_text = W.IntText(value=seed, description="seed", style=wide, layout=W.Layout(width="110px"))
        self.run_button = W.Button(description="Run", icon="play", button_style="success")
        self.stop_button = W.Button(description="Stop", icon="stop", button_style="danger", disabled=True)
        self.progress = W.IntProgress(value=0, min=0, max=1, description="0 / 0 scored", style=wide,
                                      layout=W.Layout(width="350px"))
        self.status = W.HTML()
        self.note = W.HTML(self._note_html())
        self.plot = W.Output(layout=W.Layout(min_height="200px"))
        self.table = W.HTML()

        self.run_button.on_click(self._guard(lambda _: self.run()))
        self.stop_button.on_click(self._guard(lambda _: self.stop()))
        self.top_k_text.observe(self._guard(self._on_top_k), names="value")
        self.box = W.VBox([
            W.HTML("<b>ProxyLab</b>: cheap proxies against the ground truth"),
            self.note,
            W.HBox([W.VBox([self.proxies_select, self.select_hint]),
                    W.VBox([W.HBox([self.sample_text, self.top_k_text, self.seed_text]),
                            W.HBox([self.run_button, self.stop_button])])]),
            W.HBox([self.progress, self.status]),
            self.message,
            self.table,
            self.plot,
        ])
        show_text(self.plot, "Choose proxies and a sample size, and press Run.")

    # -- set-up ------------------------------------------------------------------------
    def _resolve_truth(self, truth, metric) -> None:
        from .. import bench as nvbench
        from ..bench import Benchmark

        self.bench_ = None
        if truth is None:
            truth = "digits201" if "digits201" in nvbench.available() else "nb201-12epoch"
        if isinstance(truth, str):
            truth = nvbench.load(truth)
        if isinstance(truth, Benchmark):
            self.bench_ = truth
            self.metric_ = truth.default_metric if metric is None else metric
            if self.metric_ not in truth.metrics:
                raise UnknownNameError(f"unknown metric {self.metric_!r}; accepted: "
                                       f"{', '.join(map(repr, truth.metrics))}")
            self.space_ = truth.space
            self.truth_name_ = f"{truth.name}: {self.metric_}"
            self._pool = None
        elif isinstance(truth, Mapping):
            from ..spaces.cell import CellSpace

            self.space_ = CellSpace()
            pool = [(self.space_.from_string(a) if isinstance(a, str) else a, float(v)) for a, v in truth.items()]
            if len(pool) < 2:
                raise InvalidArgumentError(f"the ground truth needs at least 2 architectures, got {len(pool)}")
            self.metric_ = metric or "truth"
            self.truth_name_ = self.metric_
            self._pool = pool
        else:
            raise InvalidArgumentError(f"truth must be a Benchmark, a table name (nv.bench.available()) or a "
                                       f"mapping {{architecture: value}}, got {truth!r}")

    def _proxy_options(self, proxies) -> dict:
        from ..estimators.base import Estimator
        from ..estimators.zero_cost import ZeroCost

        if isinstance(proxies, (str, Estimator)):
            proxies = [proxies]
        items = list(proxies.items()) if isinstance(proxies, Mapping) else [(None, p) for p in proxies]
        options = {name: name for name in ZeroCost.available()}
        options.update({name: name for name in TRAINING_PROXIES})
        from ..spaces.cell import CellSpace

        if isinstance(self.space_, CellSpace):
            options.update({name: name for name in SUPERNET_PROXIES})
        self._initial = []
        for label, p in items:
            if isinstance(p, str):
                supernet = _SUPERNET.match(p) and isinstance(self.space_, CellSpace)
                if p not in options and not _TRAIN.match(p) and not supernet:
                    raise UnknownNameError(
                        f"unknown proxy {p!r}; accepted: {', '.join(map(repr, ZeroCost.available()))}, training "
                        "fidelities such as 'train-2ep', 'train-1ep-4px', 'train-1ep-25pct', a supernet "
                        "'supernet-<epochs>ep' (cell spaces), or Estimator objects")
                options[label or p] = p
                self._initial.append(label or p)
            elif callable(getattr(p, "evaluate", None)):
                key = label or getattr(p, "fidelity", None) or repr(p)
                options[key] = p
                self._initial.append(key)
            else:
                raise InvalidArgumentError(f"proxies must be names or Estimator objects, got {p!r}")
        return options

    def _note_html(self) -> str:
        name = self.bench_.name if self.bench_ is not None else None
        if name == "digits201" or name is None:
            text = (f"Ground truth: {self.truth_name_}. The proxies score the same networks on the same digits "
                    "images, so the correlations measure each proxy itself.")
        else:
            text = (f"Ground truth: {self.truth_name_}, measured on another dataset. The networks scored here "
                    "see scikit-learn's digits, so a correlation says how well a proxy computed on digits ranks "
                    f"cells for {name}'s task (a transfer question), not only how good the proxy is.")
        return f"<div style='font-size:12px;color:#444'>{html.escape(text)}</div>"

    def make_estimator(self, label: str):
        """The estimator behind proxy ``label`` (an option of ``proxies_select``)."""
        from ..data import digits

        choice = self.options_[label]
        if not isinstance(choice, str):
            return choice
        seed = self.seed_text.value
        data = self.data if self.data is not None else digits(seed=seed)
        from ..bench.build.recipes import RECIPES

        name = self.bench_.name if self.bench_ is not None else None
        recipe = RECIPES.get(name)  # the table's own recipe, if nasviz built it: the same networks as the truth
        shared = _SUPERNET.match(choice)
        if shared is not None:
            from ..estimators.weight_sharing import WeightSharing

            width = {"channels": recipe.channels, "cells_per_stage": recipe.cells_per_stage} if recipe else {}
            return WeightSharing(data, space=self.space_, epochs=int(shared.group(1)), train_none=False, seed=seed,
                                 **width)
        m = _TRAIN.match(choice)
        if m is None:
            from ..estimators.zero_cost import ZeroCost

            if recipe is not None:
                return ZeroCost(choice, data, space=self.space_, seed=seed, channels=recipe.channels,
                                cells_per_stage=recipe.cells_per_stage)
            return ZeroCost(choice, data, space=self.space_, seed=seed)
        from ..estimators.training import Training

        epochs, px, pct = int(m.group(1)), m.group(2), m.group(3)
        if px is not None or pct is not None:
            if self.data is not None:
                raise InvalidArgumentError(f"proxy {choice!r} changes the resolution or subset of the digits data; "
                                           "with your own data=..., use 'train-<epochs>ep' or pass an Estimator")
            data = digits(resolution=int(px) if px else 8, subset=int(pct) / 100 if pct else 1.0, seed=seed)
        if recipe is not None:  # the table's recipe at a lower fidelity: only the fidelity differs from the truth
            return recipe.estimator(seed=seed, data=data, space=self.space_, epochs=epochs)
        return Training(data, space=self.space_, epochs=epochs, seed=seed)

    def draw_sample(self, size: int, seed: int) -> list:
        """``size`` distinct architectures of the ground truth, drawn with a generator seeded by ``seed``."""
        rng = np.random.default_rng(seed)
        pool = self.bench_.archs() if self.bench_ is not None else [a for a, _ in self._pool]
        if size > len(pool):
            raise InvalidArgumentError(f"sample size must be at most {len(pool)} (the architectures with a ground "
                                       f"truth), got {size}")
        return [pool[i] for i in rng.choice(len(pool), size=size, replace=False)]

    # -- running -----------------------------------------------------------------------
    def run(self) -> None:
        """Draw the sample and score it with every selected proxy, in a background thread."""
        if self.running:
            raise InvalidArgumentError("ProxyLab is running; press Stop (or call stop()) first")
        labels = list(self.proxies_select.value)
        if not labels:
            raise InvalidArgumentError("choose at least one proxy")
        size = int_value("sample size", self.sample_text.value, minimum=2)
        int_value("top k", self.top_k_text.value)
        seed = int_value("seed", self.seed_text.value, minimum=0)
        sample = self.draw_sample(size, seed)
        estimators = {label: self.make_estimator(label) for label in labels}  # bad settings fail here
        if self.bench_ is not None:
            truth = self.bench_.query_many(sample, self.metric_)
        else:
            lookup = dict(self._pool)
            truth = np.array([lookup[a] for a in sample], dtype=float)
        with self._lock:
            self.sample_, self.truth_ = sample, truth
            self.results_ = {label: {"scores": np.full(size, np.nan), "costs": np.full(size, np.nan),
                                     "done": 0, "stats": None} for label in labels}
        self.table.value = ""
        self._begin_run(size * len(labels), "scoring")
        self.progress.description = f"0 / {self.progress.max} scored"

        def score_all():
            for label, est in estimators.items():
                res = self.results_[label]
                for start in range(0, size, CHUNK):
                    if self._stop.is_set():
                        return
                    results = est.evaluate_many(sample[start:start + CHUNK])
                    with self._lock:
                        for j, r in enumerate(results, start=start):
                            res["scores"][j] = r.score if r.ok else np.nan
                            res["costs"][j] = r.cost
                        res["done"] = start + len(results)
                    self._throttle()

        self._start_thread(score_all, "proxies")

    def stop(self) -> None:
        """Stop scoring (thread-safe) after the architectures in progress."""
        self._stop.set()

    def _thread_done(self) -> None:
        self._throttle(force=True)
        self.status.value = html.escape(self._stopped_note()) if self._stop.is_set() else "finished"
        self.run_button.disabled = False
        self.stop_button.disabled = True

    def _stopped_note(self) -> str:
        """``"stopped"``, and which proxies were cut short or never ran."""
        size = len(self.sample_)
        with self._lock:
            done = {label: res["done"] for label, res in self.results_.items()}
        partial = [f"{label} scored {n} of {size}" for label, n in done.items() if 0 < n < size]
        never = [label for label, n in done.items() if n == 0]
        parts = ["; ".join(partial)] if partial else []
        if never:
            parts.append("not run: " + ", ".join(never))
        return "stopped" + (": " + "; ".join(parts) if parts else "")

    def _on_top_k(self, change) -> None:
        int_value("top k", change["new"])
        if self.results_ and not self.running:
            self._refresh()

    # -- display -----------------------------------------------------------------------
    def _refresh(self) -> None:
        k = self.top_k_text.value if isinstance(self.top_k_text.value, int) and self.top_k_text.value > 0 else 5
        with self._lock:
            truth = self.truth_
            parts = {}
            for label, res in self.results_.items():
                n = res["done"]
                if n:
                    res["stats"] = proxy_stats(res["scores"][:n], truth[:n], res["costs"][:n], k=k)
                    parts[label] = (res["scores"][:n].copy(), res["stats"])
        self.progress.value = sum(r["done"] for r in self.results_.values())
        self.progress.description = f"{self.progress.value} / {self.progress.max} scored"
        if not parts:
            return
        rows = [[label, s["n"], s["spearman"], s["kendall"], f"{s['top_k']:.2f}", f"{s['cost'] * 1000:.1f}",
                 s["failed"]] for label, (_, s) in parts.items()]
        self.table.value = table_html(
            ["proxy", "scored", "Spearman", "Kendall", f"top-{k} hit rate", "ms per arch", "failed"], rows,
            caption=f"against {self.truth_name_}")
        cols = min(4, len(parts))
        nrows = math.ceil(len(parts) / cols)
        fig = new_figure((3.1 * cols, 2.7 * nrows))
        for i, (label, (scores, s)) in enumerate(parts.items()):
            ax = fig.add_subplot(nrows, cols, i + 1)
            n = len(scores)
            ok = np.isfinite(scores)
            ax.scatter(scores[ok], truth[:n][ok], s=12, alpha=0.7, color="tab:blue", lw=0)
            positive = scores[ok][scores[ok] > 0]
            if (scores[ok] >= 0).all() and len(positive) > 1 and positive.max() / positive.min() > 100:
                ax.set_xscale("symlog", linthresh=float(positive.min()))  # wide-ranging scores; zeros stay
            ax.set_title(f"{label}\n\u03c1 = {s['spearman']:.2f}, \u03c4 = {s['kendall']:.2f}", fontsize=9)
            ax.set_xlabel("proxy score", fontsize=8)
            if i % cols == 0:
                ax.set_ylabel(self.metric_, fontsize=8)
            ax.tick_params(labelsize=7)
            ax.grid(alpha=0.3)
        fig.tight_layout()
        show_figure(self.plot, fig, dpi=80, alt="proxy scatter plots")

    def _state(self) -> str:
        return f"{'running, ' if self.running else ''}{len(self.sample_)} architectures, {len(self.results_)} proxies"
