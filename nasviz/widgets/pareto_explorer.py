"""ParetoExplorer: accuracy against size over a whole table, and the cells on its front."""

from __future__ import annotations

import html

import ipywidgets as W
import numpy as np

from ..errors import InvalidArgumentError, check_choice
from ..pareto import pareto_front
from ._common import CODE_STYLE, WidgetBase, as_benchmark, code_html, new_figure, show_figure, table_html
from ._legible import arch_figure

__all__ = ["ParetoExplorer", "front_data"]


def front_data(bench, x: str = "params", y: str | None = None) -> dict:
    """The points of a table and its Pareto front (smaller ``x``, larger ``y``): plain data.

    Returns ``{"x", "y", "index", "front"}``: the metric values of every cell the table
    holds, their ``space.index``, and the positions (into those arrays) of the front,
    in increasing ``x``.

    Examples
    --------
    >>> import nasviz as nv
    >>> d = front_data(nv.bench.load("nb201-12epoch"), "params", "cifar10_val_acc")
    >>> len(d["x"]), len(d["front"]) > 5
    (15625, True)
    >>> bool(np.all(np.diff(d["x"][d["front"]]) >= 0) and np.all(np.diff(d["y"][d["front"]]) >= 0))
    True
    """
    y = bench.default_metric if y is None else y
    check_choice("x metric", x, bench.metrics)
    check_choice("y metric", y, bench.metrics)
    if x == y:
        raise InvalidArgumentError(f"x and y are both {x!r}; choose two different metrics (e.g. params and an "
                                   "accuracy)")
    df = bench.to_dataframe()
    xs = df[x].to_numpy(dtype=float)
    ys = df[y].to_numpy(dtype=float)
    front = pareto_front(xs, ys)
    if not len(front):
        raise InvalidArgumentError(f"no cell of {bench.name!r} has finite values of both {x!r} and {y!r}")
    return {"x": xs, "y": ys, "index": df.index.to_numpy(), "front": front, "arch": df["arch"].to_numpy()}


class ParetoExplorer(WidgetBase):
    """Accuracy against parameters (or FLOPs) for every cell of a table, with its Pareto front.

    The front holds the cells that no other cell beats in both size and accuracy. A
    slider walks along it (smallest first); the chosen cell is highlighted, drawn, and
    its numbers shown. *Random* picks any cell of the table (seeded) and shows how many
    front cells dominate it.

    Parameters
    ----------
    bench : Benchmark or str
        The table (or a shipped table's name).
    x : str
        The size metric, smaller is better (``"params"`` or ``"flops"``; any metric).
    y : str, optional
        The accuracy metric, larger is better (default: the table's default metric).
    seed : int
        Seeds the widget's generator (``rng_``) for *Random*.

    Attributes
    ----------
    x_dropdown, y_dropdown : ipywidgets.Dropdown
    log_checkbox : ipywidgets.Checkbox
        Logarithmic x axis.
    slider : ipywidgets.IntSlider
        Position on the front (0: the smallest front cell).
    random_button : ipywidgets.Button
    plot, drawing : ipywidgets.Output
    info, message : ipywidgets.HTML
    data_ : dict
        :func:`front_data` for the current metrics.

    Examples
    --------
    >>> import nasviz as nv
    >>> px = nv.widgets.ParetoExplorer("nb201-12epoch", x="flops", y="cifar10_val_acc")
    >>> px.slider.value = px.slider.max
    >>> px.arch == nv.bench.load("nb201-12epoch").optimum("cifar10_val_acc")[0]
    True
    """

    _params = ("bench", "x", "y", "seed")

    def __init__(self, bench, x="params", y=None, seed=0):
        self.bench = bench
        self.x = x
        self.y = y
        self.seed = seed
        self._init_common()

        self.bench_ = as_benchmark(bench)
        y0 = self.bench_.default_metric if y is None else y
        self.rng_ = np.random.default_rng(seed)
        self.data_ = front_data(self.bench_, x, y0)
        self.selected_ = None  # position into data_ arrays
        self._busy = False

        metrics = list(self.bench_.metrics)
        self.x_dropdown = W.Dropdown(options=metrics, value=x, description="size (x)",
                                     layout=W.Layout(width="230px"))
        self.y_dropdown = W.Dropdown(options=metrics, value=y0, description="accuracy (y)",
                                     style={"description_width": "initial"}, layout=W.Layout(width="280px"))
        self.log_checkbox = W.Checkbox(value=True, description="log x", indent=False, layout=W.Layout(width="80px"))
        self.slider = W.IntSlider(min=0, max=0, description="front point", continuous_update=False,
                                  layout=W.Layout(width="420px"))
        self.random_button = W.Button(description="Random cell", icon="random",
                                      tooltip="any cell of the table (seeded): how far is it from the front?")
        self.plot = W.Output(layout=W.Layout(min_height="300px"))
        self.drawing = W.Output()
        self.info = W.HTML()
        title = W.HTML(f"<b>ParetoExplorer</b>: {html.escape(self.bench_.name)}, {len(self.bench_):,} cells")

        self.x_dropdown.observe(self._guard(self._on_metrics), names="value")
        self.y_dropdown.observe(self._guard(self._on_metrics), names="value")
        self.log_checkbox.observe(self._guard(lambda _: self._render_plot()), names="value")
        self.slider.observe(self._guard(self._on_slider), names="value")
        self.random_button.on_click(self._guard(lambda _: self.random()))

        self.box = W.VBox([
            title,
            W.HBox([self.x_dropdown, self.y_dropdown, self.log_checkbox]),
            W.HBox([self.slider, self.random_button]),
            self.message,
            W.HBox([self.plot, W.VBox([self.drawing, self.info])]),
        ])
        self._reset_front()

    # -- public ------------------------------------------------------------------------
    @property
    def front(self) -> list:
        """The architectures on the front, smallest ``x`` first."""
        return [self._arch_at(p) for p in self.data_["front"]]

    @property
    def arch(self):
        """The selected architecture."""
        return None if self.selected_ is None else self._arch_at(self.selected_)

    def select(self, k: int):
        """Select the ``k``-th cell of the front (0: smallest); return it."""
        n = len(self.data_["front"])
        if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or not -n <= k < n:
            raise InvalidArgumentError(f"front position must be an integer in [{-n}, {n}), got {k!r}")
        self.slider.value = int(k) % n  # the slider's observer shows it
        return self.arch

    def random(self):
        """Select a random cell of the table (not necessarily on the front); return it."""
        pos = int(self.rng_.integers(len(self.data_["x"])))
        self._show(pos)
        return self.arch

    # -- callbacks ---------------------------------------------------------------------
    def _on_metrics(self, change):
        if self._busy:
            return
        self.data_ = front_data(self.bench_, self.x_dropdown.value, self.y_dropdown.value)
        self._reset_front()

    def _on_slider(self, change):
        if self._busy:
            return
        self._show(int(self.data_["front"][change["new"]]))

    # -- display -----------------------------------------------------------------------
    def _arch_at(self, pos: int):
        return self.bench_.space.from_string(str(self.data_["arch"][pos]))

    def _reset_front(self) -> None:
        front = self.data_["front"]
        self._busy = True
        try:
            self.slider.max = len(front) - 1
            self.slider.value = len(front) - 1  # the most accurate end of the front
        finally:
            self._busy = False
        self._show(int(front[-1]))

    def _show(self, pos: int) -> None:
        self.selected_ = pos
        self._render_plot()
        self._render_cell()

    def _render_plot(self) -> None:
        d = self.data_
        xname, yname = self.x_dropdown.value, self.y_dropdown.value
        fig = new_figure((6.0, 4.3))
        ax = fig.add_subplot()
        ax.scatter(d["x"], d["y"], s=3, color="0.65", alpha=0.35, lw=0, label=f"all {len(d['x']):,} cells",
                   rasterized=True)
        f = d["front"]
        ax.plot(d["x"][f], d["y"][f], "-o", color="tab:orange", ms=4, lw=1.5, label=f"Pareto front ({len(f)})")
        if self.selected_ is not None:
            p = self.selected_
            ax.scatter([d["x"][p]], [d["y"][p]], s=120, facecolor="none", edgecolor="tab:red", lw=2,
                       label="selected", zorder=5)
        if self.log_checkbox.value and np.nanmin(d["x"]) > 0:
            ax.set_xscale("log")
        ax.set_xlabel(f"{xname} (smaller is better)")
        ax.set_ylabel(f"{yname} (larger is better)")
        ax.set_title(self.bench_.name, fontsize=10)
        ax.legend(loc="lower right", fontsize="small")
        ax.grid(alpha=0.3)
        show_figure(self.plot, fig, alt="pareto plot")

    def _render_cell(self) -> None:
        d, p = self.data_, self.selected_
        arch = self._arch_at(p)
        show_figure(self.drawing, arch_figure(arch, max_size=(5.5, 4.0), dpi=90), dpi=90, alt=str(arch))
        xname, yname = self.x_dropdown.value, self.y_dropdown.value
        on_front = np.flatnonzero(d["front"] == p)
        gx, gy = d["x"][d["front"]], d["y"][d["front"]]
        dominated_by = int(np.sum((gx <= d["x"][p]) & (gy >= d["y"][p]) & ((gx < d["x"][p]) | (gy > d["y"][p]))))
        if len(on_front):
            same = int(np.sum((gx == d["x"][p]) & (gy == d["y"][p]))) - 1
            where = f"front point {int(on_front[0])} of {len(d['front'])}"
            if same:
                where += f" ({same} other front cell{'s' if same != 1 else ''} with the same values)"
        else:
            where = f"not on the front: {dominated_by} front cell{'s' if dominated_by != 1 else ''} dominate it"
        rows = [["position", where]]
        for m in self.bench_.metrics:
            v = self.bench_.query(arch, m)
            rows.append([m + (" (x)" if m == xname else " (y)" if m == yname else ""),
                         f"{v:,.0f}" if m in ("params", "flops") else f"{v:.4f}"])
        rows.append([f"{yname} percentile", f"{self.bench_.percentile(arch, yname):.1f}"])
        # the architecture above the table, wrapping between nodes or layers instead of being cut
        self.info.value = (f"<div style='{CODE_STYLE};max-width:100%'>{code_html(arch)}</div>"
                           + table_html(["", ""], rows))

    def _state(self) -> str:
        return f"{len(self.data_['front'])} front cells, selected={str(self.arch)!r}"
