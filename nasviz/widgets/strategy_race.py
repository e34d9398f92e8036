"""StrategyRace: several strategies over many seeds on a table; mean regret and evaluations to the optimum."""

from __future__ import annotations

import html
import math
import threading

import ipywidgets as W
import numpy as np

from ..errors import InvalidArgumentError, check_choice
from ._common import Throttle, WidgetBase, as_benchmark, int_value, new_figure, show_figure, show_text, table_html

__all__ = ["StrategyRace", "race_table"]


def race_table(histories: dict, optimum: float) -> list[dict]:
    """One row per label: runs, how many found the optimum, evaluations to it, final regret.

    ``histories``: ``{label: [History, ...]}``. Each row has ``label``, ``runs``,
    ``found`` (runs that reached ``optimum``), ``median_evals`` and ``mean_evals`` (over
    the runs that found it; None if none did), ``mean_regret`` (``optimum`` minus the
    best score of each run, averaged; NaN for runs without a success are skipped).

    Examples
    --------
    >>> import nasviz as nv
    >>> space = nv.CellSpace()
    >>> def run(scores):
    ...     return nv.History([nv.Trial(i, space[i], nv.Result(score=s)) for i, s in enumerate(scores)])
    >>> race_table({"a": [run([0.5, 1.0]), run([0.7, 0.8])]}, optimum=1.0)[0]
    {'label': 'a', 'runs': 2, 'found': 1, 'median_evals': 2.0, 'mean_evals': 2.0, 'mean_regret': 0.1}
    """
    rows = []
    for label, hs in histories.items():
        evals = [e for e in (h.evaluations_to(optimum) for h in hs) if e is not None]
        regrets = [optimum - h.best.score for h in hs if h.best is not None]
        rows.append({
            "label": label,
            "runs": len(hs),
            "found": len(evals),
            "median_evals": float(np.median(evals)) if evals else None,
            "mean_evals": float(np.mean(evals)) if evals else None,
            "mean_regret": round(float(np.mean(regrets)), 12) if regrets else math.nan,
        })
    return rows


class StrategyRace(WidgetBase):
    """Race search strategies on a table over many seeds.

    Every chosen strategy runs once per seed (``seed``, ``seed + 1``, ...) with the same
    budget on the table's metric, in a background thread (*Stop* ends the race after
    the runs so far). The plot shows the mean regret (optimum minus best so far) with a
    95% confidence band per strategy (:func:`nasviz.compare`); the table says how many
    runs found the table's optimum and after how many evaluations.

    Parameters
    ----------
    bench : Benchmark or str
        The table (or a shipped table's name).
    strategies : sequence of str
        Strategy names (``nv.strategies.available()``) selected at first.
    seeds : int
        Runs per strategy.
    budget : int
        Evaluations per run.
    metric : str, optional
        The table's metric to maximise (default: its default metric).
    seed : int
        The first seed; run ``i`` of every strategy uses ``seed + i``.

    Attributes
    ----------
    strategies_select : ipywidgets.SelectMultiple
    seeds_text, budget_text : ipywidgets.IntText
    metric_dropdown : ipywidgets.Dropdown
    run_button, stop_button : ipywidgets.Button
    progress : ipywidgets.IntProgress
        Runs done.
    plot : ipywidgets.Output
    table, status, message : ipywidgets.HTML
    histories_ : dict of str -> list of History
        The finished runs, per strategy.
    optimum_ : float
        The table's best value of the metric.

    Examples
    --------
    >>> import nasviz as nv
    >>> race = nv.widgets.StrategyRace("nb201-12epoch", strategies=("random", "local"), seeds=2, budget=20)
    >>> race.run_button.click()
    >>> race.wait(60)
    True
    >>> {k: len(v) for k, v in race.histories_.items()}
    {'random': 2, 'local': 2}
    """

    _params = ("bench", "strategies", "seeds", "budget", "metric", "seed")

    def __init__(self, bench, strategies=("random", "evolution", "local"), seeds=10, budget=100, metric=None,
                 seed=0):
        self.bench = bench
        self.strategies = strategies
        self.seeds = seeds
        self.budget = budget
        self.metric = metric
        self.seed = seed
        self._init_common()
        from .. import strategies as nvstrategies

        self.bench_ = as_benchmark(bench)
        names = nvstrategies.available(differentiable=False)
        chosen = [strategies] if isinstance(strategies, str) else list(strategies)
        for s in chosen:
            check_choice("strategy", s, names)
        metric0 = self.bench_.default_metric if metric is None else check_choice("metric", metric,
                                                                                 self.bench_.metrics)
        self.histories_: dict = {}
        self.optimum_ = None
        self._stop = threading.Event()
        self._search = None
        self._throttle = Throttle(self._refresh, interval=0.25)

        wide = {"description_width": "initial"}
        self.strategies_select = W.SelectMultiple(options=names, value=tuple(chosen), description="strategies",
                                                  rows=min(len(names), 5), style=wide,
                                                  layout=W.Layout(width="250px"))
        self.seeds_text = W.IntText(value=seeds, description="seeds", style=wide, layout=W.Layout(width="110px"))
        self.budget_text = W.IntText(value=budget, description="budget", style=wide, layout=W.Layout(width="130px"))
        self.metric_dropdown = W.Dropdown(options=list(self.bench_.metrics), value=metric0, description="metric",
                                          style=wide, layout=W.Layout(width="250px"))
        self.run_button = W.Button(description="Run", icon="play", button_style="success")
        self.stop_button = W.Button(description="Stop", icon="stop", button_style="danger", disabled=True)
        self.progress = W.IntProgress(value=0, min=0, max=1, description="runs", style=wide,
                                      layout=W.Layout(width="350px"))
        self.status = W.HTML()
        self.plot = W.Output(layout=W.Layout(min_height="260px"))
        self.table = W.HTML()

        self.run_button.on_click(self._guard(lambda _: self.run()))
        self.stop_button.on_click(self._guard(lambda _: self.stop()))
        title = W.HTML(f"<b>StrategyRace</b> on {html.escape(self.bench_.name)}")
        self.box = W.VBox([
            title,
            W.HBox([self.strategies_select,
                    W.VBox([W.HBox([self.seeds_text, self.budget_text]), self.metric_dropdown,
                            W.HBox([self.run_button, self.stop_button])])]),
            W.HBox([self.progress, self.status]),
            self.message,
            W.HBox([self.plot, self.table]),
        ])
        show_text(self.plot, "No race yet: choose strategies, seeds and a budget, and press Run.")

    # -- running -----------------------------------------------------------------------
    def run(self) -> None:
        """Start the race with the current settings in a background thread."""
        if self.running:
            raise InvalidArgumentError("a race is running; press Stop (or call stop()) first")
        names = list(self.strategies_select.value)
        if not names:
            raise InvalidArgumentError("choose at least one strategy")
        seeds = int_value("seeds", self.seeds_text.value)
        budget = int_value("budget", self.budget_text.value)
        metric = self.metric_dropdown.value
        from .. import strategies as nvstrategies
        from ..estimators.tabular import Tabular

        space = self.bench_.space
        for name in names:  # fail now, in the widget, on a strategy that cannot run here
            nvstrategies.get(name, space, seed=self.seed)
        estimator = Tabular(self.bench_, metric=metric)
        self.optimum_ = self.bench_.optimum(metric)[1]
        self.histories_ = {name: [] for name in names}
        self.table.value = ""
        self._begin_run(seeds * len(names), "running")

        def race():
            from ..search import Search

            for i in range(seeds):
                for name in names:
                    if self._stop.is_set():
                        return
                    s = self.seed + i
                    self._search = Search(space, nvstrategies.get(name, space, seed=s), estimator, budget=budget,
                                          seed=s)
                    history = self._search.run(progress=False)
                    if self._search.stopped_reason_ == "stopped":
                        return  # a run cut short is not a fair entry
                    with self._lock:
                        self.histories_[name].append(history)
                    self._throttle()

        self._start_thread(race, "race")

    def stop(self) -> None:
        """Stop the race (thread-safe): the run in progress is dropped, finished ones are kept."""
        self._stop.set()
        search = self._search
        if search is not None:
            search.stop()

    def _thread_done(self) -> None:
        self._throttle(force=True)
        done = sum(len(v) for v in self.histories_.values())
        self.status.value = html.escape(f"{'stopped' if self._stop.is_set() else 'finished'}: {done} runs")
        self.run_button.disabled = False
        self.stop_button.disabled = True

    # -- display -----------------------------------------------------------------------
    def _refresh(self) -> None:
        from ..comparison import compare

        with self._lock:
            groups = {k: list(v) for k, v in self.histories_.items() if v}
        done = sum(len(v) for v in groups.values())
        self.progress.value = done
        if not groups:
            return
        self.status.value = html.escape(f"running: {done} of {self.progress.max} runs")
        fig = new_figure((6.0, 3.8))
        ax = fig.add_subplot()
        compare(groups, optimum=self.optimum_, ax=ax)
        means = [line.get_ydata() for line in ax.get_lines()]
        positive = [m[np.isfinite(m) & (m > 0)] for m in means]
        low = min((float(p.min()) for p in positive if len(p)), default=None)
        if low is not None:  # log scale; a band (or a mean) reaching zero regret is drawn down to the axis
            ax.set_yscale("log", nonpositive="clip")
            ax.set_ylim(bottom=max(low / 3, 1e-5))
        ax.set_title(f"{self.bench_.name}: {self.metric_dropdown.value}, optimum {self.optimum_:.4g}", fontsize=10)
        ax.grid(alpha=0.3)
        show_figure(self.plot, fig, dpi=80, alt="mean regret")
        rows = []
        for r in race_table(groups, self.optimum_):
            rows.append([r["label"], r["runs"], f"{r['found']}/{r['runs']}",
                         "-" if r["median_evals"] is None else f"{r['median_evals']:.0f}",
                         "-" if r["mean_evals"] is None else f"{r['mean_evals']:.1f}", r["mean_regret"]])
        self.table.value = table_html(
            ["strategy", "runs", "found optimum", "median evals to optimum", "mean evals", "mean final regret"],
            rows, caption="evaluations to the optimum")

    def _state(self) -> str:
        done = sum(len(v) for v in self.histories_.values())
        return f"{'running, ' if self.running else ''}{done} runs"
