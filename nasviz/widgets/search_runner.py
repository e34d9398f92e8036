"""SearchRunner: set up a search with controls, run it in the background, watch it live."""

from __future__ import annotations

import html
import time

import ipywidgets as W

from ..errors import InvalidArgumentError, UnknownNameError
from ._common import Throttle, WidgetBase, new_figure, show_figure, show_text, table_html
from ._legible import arch_figure
from .search_settings import (
    ESTIMATOR_KINDS,
    default_bench,
    estimator_options,
    knob_widget,
    strategy_knobs,
    training_note_html,
)

__all__ = ["SearchRunner", "strategy_knobs"]

#: Room (inches, at 80 dpi) for the incumbent's drawing: a cell fits beside the curve of the best
#: score (its edges colour-coded, with a legend); a layer chain needs more width for legible
#: text, and wraps under the curve where the notebook is narrow.
INCUMBENT_SIZE = {"cell": (4.8, 3.2), "chain": (8.0, 4.5)}


class SearchRunner(WidgetBase):
    """Choose a strategy, an estimator and a budget; run the search in the background.

    The search (a :class:`nasviz.Search`) runs in a ``threading.Thread``, so the kernel
    stays responsive: *Stop* calls ``search.stop()`` at any time and keeps everything
    evaluated; *Resume* continues the stopped search; *Run* starts a new one with the
    current settings. While it runs, the widget shows the best score so far over every
    evaluation (the table's optimum dashed), the incumbent cell, the top-k table and a
    progress bar, redrawn at most every ``update_interval`` seconds (longer when
    redrawing is slow) so that thousands of fast table look-ups stay smooth. Settings
    that the widget refuses (a budget of 0, a strategy that cannot be built) show their
    message and clear the previous run's curve, cell and table.

    The ``"training"`` estimator is ``nv.estimators.Training(data, space=space,
    epochs=..., seed=...)``: the epochs, the data (``nv.data.digits`` at the chosen
    resolution and subset, or ``data``) and the seed come from the controls, everything
    else (channels, cells per stage, batch size, optimizer, learning rate, schedule,
    weight decay, BatchNorm recalibration, device) is ``Training``'s own default, the
    same as a notebook's ``nv.estimators.Training(data, epochs=...)`` (a note beside the
    controls lists them). A table's build recipe (``nv.bench.recipe("digits201")``)
    trains other networks, so its scores differ; pass such an estimator in
    ``estimators`` (e.g. ``{"digits201 recipe, 2 epochs": recipe.estimator(epochs=2)}``)
    to search with it.

    Parameters
    ----------
    space : Space, optional
        The search space (default ``nv.CellSpace()``).
    bench : Benchmark or str, optional
        The table behind the ``"table"`` estimator; by default ``"nb201-12epoch"`` for
        NAS-Bench-201's cell space, none for other spaces.
    estimators : sequence
        What the estimator menu offers: ``"table"``, ``"training"`` (epochs,
        resolution and subset of ``nv.data.digits`` as controls; ``Training``'s
        defaults otherwise), ``"weight-sharing"`` (a supernet of ``WeightSharing``,
        its epochs and data from the same controls; cell spaces only), ``"zero-cost"``
        (a proxy name), and ready-made
        :class:`~nasviz.estimators.base.Estimator` objects (a mapping
        ``{label: estimator}`` names them), used as given.
    data : nasviz.data.Data, optional
        Data for training and zero-cost estimators; by default ``nv.data.digits`` at
        the resolution and subset chosen in the controls.
    strategy : str
        The strategy selected at first (``nv.strategies.available()``; ``darts`` and
        ``gdas`` for cell spaces only: their supernet trains on the data of the controls).
    budget, workers, seed : int
        Initial values of the controls of the same names (``seed`` seeds the strategy
        through ``Search(seed=...)`` and the training/zero-cost estimators).
    top_k : int
        Rows of the top-k table.
    update_interval : float
        Shortest time between two redraws, in seconds.

    Attributes
    ----------
    strategy_dropdown, estimator_dropdown : ipywidgets.Dropdown
    knobs : dict of str -> widget
        The chosen strategy's knobs (rebuilt when the strategy changes).
    metric_dropdown, proxy_dropdown : ipywidgets.Dropdown
    epochs_text, resolution_text : ipywidgets.IntText
    subset_text : ipywidgets.FloatText
    budget_text, workers_text, seed_text : ipywidgets.IntText
    run_button, stop_button, resume_button : ipywidgets.Button
    progress : ipywidgets.IntProgress
    status, topk, message : ipywidgets.HTML
        ``topk``: the top-k table, under the curve at the widget's full width, its
        architecture strings in a small monospace font that wraps between nodes.
    training_note : ipywidgets.HTML
        The settings the ``"training"`` estimator takes from ``Training``'s defaults.
    plot, incumbent : ipywidgets.Output
    search_ : nasviz.Search or None
        The search of the last Run.
    history : nasviz.History or None
        What the last run found, once it has finished (also after Stop).

    Examples
    --------
    >>> import nasviz as nv
    >>> runner = nv.widgets.SearchRunner(nv.CellSpace(), strategy="random", budget=20, seed=0)
    >>> runner.run_button.click()
    >>> runner.wait(60)
    True
    >>> len(runner.history), runner.progress.value
    (20, 20)
    """

    _params = ("space", "bench", "estimators", "data", "strategy", "budget", "workers", "seed")

    def __init__(self, space=None, *, bench=None, estimators=ESTIMATOR_KINDS, data=None, strategy="evolution",
                 budget=100, workers=1, seed=0, top_k=5, update_interval=0.25):
        self.space = space
        self.bench = bench
        self.estimators = estimators
        self.data = data
        self.strategy = strategy
        self.budget = budget
        self.workers = workers
        self.seed = seed
        self.top_k = top_k
        self.update_interval = update_interval
        self._init_common()
        from .. import strategies
        from ..bench import Benchmark, load
        from ..spaces.base import Space
        from ..spaces.cell import CellSpace

        self.space_ = CellSpace() if space is None else space
        if not isinstance(self.space_, Space):
            raise InvalidArgumentError(f"space must be a nasviz Space such as nv.CellSpace(), got {space!r}")
        self.bench_ = default_bench(self.space_) if bench is None else load(bench) if isinstance(bench, str) else bench
        if self.bench_ is not None and not isinstance(self.bench_, Benchmark):
            raise InvalidArgumentError(f"bench must be a Benchmark or a table name, got {bench!r}")
        self.estimator_options_ = estimator_options(estimators, self.space_, self.bench_)
        self.search_ = None
        self.history = None
        self._trials: list = []
        self._started_at = None
        self._best_drawn = None
        self._data_cache: dict = {}
        self._throttle = Throttle(self._refresh, interval=update_interval)

        from ..spaces.cell import CellSpace

        names = strategies.available(differentiable=isinstance(self.space_, CellSpace))
        if strategy not in names:
            raise UnknownNameError(f"unknown strategy {strategy!r}; accepted: {', '.join(map(repr, names))}")
        self._make_controls(names)
        self._wire_controls()
        self.box = self._layout()
        self._build_knobs()
        self._show_estimator_knobs()
        show_text(self.plot, "No search yet: choose the settings and press Run.")


    # -- building the widget ---------------------------------------------------------
    def _make_controls(self, names) -> None:
        """Every control, filled with the constructor's settings."""
        strategy, budget, workers, seed = self.strategy, self.budget, self.workers, self.seed
        wide = {"description_width": "initial"}
        self.strategy_dropdown = W.Dropdown(options=names, value=strategy, description="strategy", style=wide,
                                            layout=W.Layout(width="200px"))
        self.knobs: dict = {}
        self.knob_box = W.HBox(layout=W.Layout(flex_flow="row wrap"))
        self.estimator_dropdown = W.Dropdown(options=list(self.estimator_options_), description="estimator",
                                             style=wide, layout=W.Layout(width="260px"))
        metrics = list(self.bench_.metrics) if self.bench_ is not None else []
        self.metric_dropdown = W.Dropdown(options=metrics, value=self.bench_.default_metric if metrics else None,
                                          description="metric", style=wide, layout=W.Layout(width="250px"))
        self.epochs_text = W.IntText(value=2, description="epochs", style=wide, layout=W.Layout(width="120px"))
        self.resolution_text = W.IntText(value=8, description="resolution", style=wide,
                                         layout=W.Layout(width="140px"))
        self.subset_text = W.FloatText(value=1.0, description="subset", style=wide, layout=W.Layout(width="130px"))
        self.training_note = W.HTML(training_note_html())
        from ..estimators.zero_cost import ZeroCost

        self.proxy_dropdown = W.Dropdown(options=list(ZeroCost.available()), value="synflow", description="proxy",
                                         style=wide, layout=W.Layout(width="200px"))
        self.estimator_box = W.HBox()
        self.budget_text = W.IntText(value=budget, description="budget", style=wide, layout=W.Layout(width="140px"))
        self.workers_text = W.IntText(value=workers, description="workers", style=wide,
                                      layout=W.Layout(width="120px"))
        self.seed_text = W.IntText(value=seed, description="seed", style=wide, layout=W.Layout(width="120px"))
        self.run_button = W.Button(description="Run", icon="play", button_style="success",
                                   tooltip="start a new search with these settings")
        self.stop_button = W.Button(description="Stop", icon="stop", button_style="danger", disabled=True,
                                    tooltip="stop the search; everything evaluated is kept")
        self.resume_button = W.Button(description="Resume", icon="forward", disabled=True,
                                      tooltip="continue the stopped search")
        self.progress = W.IntProgress(value=0, min=0, max=max(1, budget if isinstance(budget, int) else 1),
                                      description="0 / " + str(budget), style=wide, layout=W.Layout(width="400px"))
        self.status = W.HTML()
        self.plot = W.Output(layout=W.Layout(min_height="260px"))
        self.incumbent = W.Output()
        self.topk = W.HTML(layout=W.Layout(width="100%"))

    def _wire_controls(self) -> None:
        self.strategy_dropdown.observe(self._guard(lambda _: self._build_knobs()), names="value")
        self.estimator_dropdown.observe(self._guard(lambda _: self._show_estimator_knobs()), names="value")
        self.run_button.on_click(self._guard(lambda _: self.run()))
        self.stop_button.on_click(self._guard(lambda _: self.stop()))
        self.resume_button.on_click(self._guard(lambda _: self.resume()))

    def _layout(self):
        title = W.HTML(f"<b>SearchRunner</b>: {html.escape(repr(self.space_))}")
        return W.VBox([
            title,
            W.HBox([self.strategy_dropdown, self.knob_box]),
            W.HBox([self.estimator_dropdown, self.estimator_box]),
            W.HBox([self.budget_text, self.workers_text, self.seed_text, self.run_button, self.stop_button,
                    self.resume_button]),
            W.HBox([self.progress, self.status]),
            self.message,
            W.HBox([self.plot, self.incumbent], layout=W.Layout(flex_flow="row wrap", align_items="flex-start")),
            self.topk,  # its own row: the architecture strings get the widget's whole width
        ])

    # -- controls --------------------------------------------------------------------
    def _build_knobs(self) -> None:
        self.knobs = {name: knob_widget(name, default, choices)
                      for name, (default, choices) in strategy_knobs(self.strategy_dropdown.value,
                                                                     self.space_).items()}
        self.knob_box.children = list(self.knobs.values())

    def _show_estimator_knobs(self) -> None:
        kind = self.estimator_options_[self.estimator_dropdown.value]
        children = {"table": [self.metric_dropdown],
                    "training": [self.epochs_text, self.resolution_text, self.subset_text, self.training_note],
                    "weight-sharing": [self.epochs_text, self.resolution_text, self.subset_text],
                    "zero-cost": [self.proxy_dropdown]}
        self.estimator_box.children = children.get(kind, []) if isinstance(kind, str) else []
        if self.data is not None:
            self.resolution_text.disabled = self.subset_text.disabled = True

    # -- building what runs ----------------------------------------------------------
    def make_strategy(self):
        """The strategy the controls describe (``nv.strategies.get(name, space, seed=..., **knobs)``)."""
        from .. import strategies

        kwargs = {k: w.value for k, w in self.knobs.items()}
        name = self.strategy_dropdown.value
        if name in strategies.DIFFERENTIABLE:  # a supernet trains on the images of the data controls
            kwargs["data"] = self._data()
        return strategies.get(name, self.space_, seed=self.seed_text.value, **kwargs)

    def _data(self):
        if self.data is not None:
            return self.data
        key = (self.resolution_text.value, self.subset_text.value, self.seed_text.value)
        if key not in self._data_cache:
            from ..data import digits

            self._data_cache.clear()
            self._data_cache[key] = digits(resolution=key[0], subset=key[1], seed=key[2])
        return self._data_cache[key]

    def make_estimator(self):
        """The estimator the controls describe.

        ``"training"``: ``Training(data, space=space, epochs=<epochs>, seed=<seed>)``,
        every other setting ``Training``'s default; ``"weight-sharing"``:
        ``WeightSharing(data, space=space, epochs=<epochs>, seed=<seed>)`` (a supernet
        trained for that many epochs at the first evaluation, then every cell judged with
        its weights); an Estimator given in ``estimators``: that object.
        """
        choice = self.estimator_options_[self.estimator_dropdown.value]
        if not isinstance(choice, str):
            return choice
        if choice == "table":
            from ..estimators.tabular import Tabular

            return Tabular(self.bench_, metric=self.metric_dropdown.value)
        if choice == "training":
            from ..estimators.training import Training

            return Training(self._data(), space=self.space_, epochs=self.epochs_text.value, seed=self.seed_text.value)
        if choice == "weight-sharing":
            from ..estimators.weight_sharing import WeightSharing

            return WeightSharing(self._data(), space=self.space_, epochs=self.epochs_text.value,
                                 seed=self.seed_text.value)
        from ..estimators.zero_cost import ZeroCost

        return ZeroCost(self.proxy_dropdown.value, self._data(), space=self.space_, seed=self.seed_text.value)

    def make_search(self):
        """A :class:`nasviz.Search` built from the controls, reporting to this widget."""
        from ..search import Search

        return Search(self.space_, self.make_strategy(), self.make_estimator(), budget=self.budget_text.value,
                      workers=self.workers_text.value, seed=self.seed_text.value, callbacks=[_Reporter(self)])

    # -- running ---------------------------------------------------------------------
    def run(self):
        """Start a new search with the current settings in a background thread; return it.

        Bad settings raise (and, from the Run button, show in the widget).
        """
        if self.running:
            raise InvalidArgumentError("a search is running; press Stop (or call stop()) first")
        self._clear_message()
        try:
            search = self.make_search()
        except Exception:
            self._clear_results("No search: the settings were refused (the message above says how to fix "
                                "them). Change them and press Run.")
            self._set_status("not run: settings refused")
            raise
        self.search_ = search
        self.history = None
        with self._lock:
            self._trials = []
            self._best_drawn = None
        self.progress.max = search.budget
        self.progress.value = 0
        self.progress.description = f"0 / {search.budget}"
        self._clear_results(f"Running {type(search.strategy).__name__}: the first evaluations are on their way.")
        self._launch(search)
        return search

    def _clear_results(self, note: str) -> None:
        """Take the last run's curve, incumbent and table away; ``note`` takes the curve's place."""
        show_text(self.plot, note)
        self.incumbent.outputs = ()
        self.topk.value = ""
        self._best_drawn = None

    def resume(self):
        """Continue the last search after :meth:`stop` (same strategy state, same trials)."""
        if self.running:
            raise InvalidArgumentError("the search is running already")
        if self.search_ is None:
            raise InvalidArgumentError("no search to resume; press Run first")
        if self.search_.stopped_reason_ != "stopped":
            raise InvalidArgumentError(f"the last search ended because of {self.search_.stopped_reason_!r}, "
                                       "not Stop; press Run for a new one")
        self._launch(self.search_)
        return self.search_

    def _launch(self, search) -> None:
        self._started_at = time.perf_counter()
        self.run_button.disabled = True
        self.resume_button.disabled = True
        self.stop_button.disabled = False
        self._set_status(f"running {html.escape(type(search.strategy).__name__)} with "
                         f"{html.escape(getattr(search.estimator, 'fidelity', repr(search.estimator)))}")
        self._start_thread(lambda: search.run(progress=False), "search")

    def stop(self) -> None:
        """Ask the running search to stop (thread-safe); it keeps what it evaluated."""
        if self.search_ is not None:
            self.search_.stop()

    def _thread_done(self) -> None:
        if not self._trials:  # nothing to plot: say why instead of "running"
            show_text(self.plot, "The search stopped with an error before any evaluation (see the message above)."
                      if self.error_ is not None else "The search ended before any evaluation finished.")
        self.run_button.disabled = False
        self.stop_button.disabled = True
        search = self.search_
        self.resume_button.disabled = not (search is not None and search.stopped_reason_ == "stopped"
                                           and len(search.trials_) < search.budget)

    # -- live display ----------------------------------------------------------------
    def _on_trial(self, trial) -> None:
        with self._lock:
            self._trials.append(trial)
        self._throttle()

    def _on_finish(self, history) -> None:
        self.history = history
        self._throttle(force=True)
        search = self.search_
        reason = search.stopped_reason_
        note = {"budget": "finished (budget spent)", "stopped": "stopped",
                "finished": "finished (the strategy has nothing left)",
                "repeats": "finished (the strategy kept asking for evaluated cells)",
                "interrupted": "interrupted"}.get(reason, f"finished ({reason})")
        best = history.best
        text = f"{note}: {len(history)} evaluations"
        if best is not None:
            text += f", best {best.score:.4g} at trial {best.number}"
        if history.failed:
            text += f"; {len(history.failed)} failed, e.g. {history.failed[-1].error}"
        self._set_status(html.escape(text))

    def _set_status(self, text_html: str) -> None:
        self.status.value = f"<span style='font-size:13px'>{text_html}</span>"

    def _refresh(self) -> None:
        from ..history import History

        with self._lock:
            trials = list(self._trials)
        search = self.search_
        n = len(search.trials_) if search is not None else len(trials)
        self.progress.value = min(n, self.progress.max)
        self.progress.description = f"{n} / {self.progress.max}"
        if not trials:
            return
        history = History(trials, label=type(search.strategy).__name__ if search is not None else None)
        best = history.best
        elapsed = time.perf_counter() - (self._started_at or time.perf_counter())
        if self.history is None:
            text = f"running: {len(trials)} evaluations in {elapsed:.1f} s"
            if best is not None:
                text += f", best {best.score:.4g} (trial {best.number})"
            if history.failed:
                text += f", {len(history.failed)} failed"
            self._set_status(html.escape(text))
        fig = new_figure((5.6, 3.6))
        ax = fig.add_subplot()
        history.plot(ax=ax, optimum=self._optimum(search))
        ax.grid(alpha=0.3)
        fig.subplots_adjust(left=0.13, right=0.97, bottom=0.13, top=0.91)
        show_figure(self.plot, fig, dpi=80, alt="search progress", tight=False)  # fixed margins: one draw
        if best is not None and best.arch != self._best_drawn:
            self._draw_incumbent(best)
        top = sorted(history.ok_trials, key=lambda t: (-t.score, t.number))[: self.top_k]
        self.topk.value = table_html(["#", "trial", "score", "cost (s)", "arch"],
                                     [[i + 1, t.number, t.score, t.cost, str(t.arch)] for i, t in enumerate(top)],
                                     caption=f"top {len(top)}", code_columns=(4,))

    def _optimum(self, search):
        from ..estimators.tabular import Tabular

        est = getattr(search, "estimator", None)
        if not isinstance(est, Tabular):
            return None
        try:
            from ..bench import load

            bench = load(est.bench) if isinstance(est.bench, str) else est.bench
            return bench.optimum(est.metric)[1]
        except Exception:  # noqa: BLE001 - the optimum line is a nicety
            return None

    def _draw_incumbent(self, best) -> None:
        from ..drawing.layout import arch_kind

        fig = arch_figure(best.arch, max_size=INCUMBENT_SIZE[arch_kind(best.arch)], dpi=80,
                          title=f"incumbent: trial {best.number}, score {best.score:.4g}")
        show_figure(self.incumbent, fig, dpi=80, alt=str(best.arch))
        self._best_drawn = best.arch

    def _state(self) -> str:
        if self.search_ is None:
            return "not run"
        n = len(self.search_.trials_)
        state = "running" if self.running else (self.search_.stopped_reason_ or "ready")
        best = self.history.best if self.history is not None else None
        return f"{state}, {n} trials" + (f", best {best.score:.4g}" if best is not None else "")


class _Reporter:
    """The search callback: hands trials to the widget (cheaply; redraws are throttled)."""

    def __init__(self, runner: SearchRunner):
        self._runner = runner

    def on_trial(self, search, trial):
        if search is self._runner.search_:
            self._runner._on_trial(trial)

    def on_finish(self, search, history):
        if search is self._runner.search_:
            self._runner._on_finish(history)

    def __repr__(self) -> str:
        return "SearchRunner callback"

