"""SpaceExplorer: pick an architecture decision by decision and see what it is."""

from __future__ import annotations

import html
import math
from collections import Counter, OrderedDict

import ipywidgets as W
import numpy as np

from ..errors import InvalidArchitectureError, InvalidArgumentError, NasvizError
from ._common import WidgetBase, show_figure, table_html
from ._legible import arch_figure

__all__ = ["SpaceExplorer", "canonical_counts"]

#: Spaces up to this size get an isomorphism class count (every member is visited once).
MAX_TWIN_SPACE = 200_000

#: Said of a cell whose input never reaches its output (``space.is_disconnected``).
DISCONNECTED_NOTE = "disconnected: the output ignores the input, chance level"

#: How to read :meth:`CellSpace.canonical <nasviz.CellSpace.canonical>`'s string, in one line.
CANONICAL_NOTE = ("the output as a formula: 0 is the input, (x)@op applies op to x, + adds, # is zero; "
                  "cells with the same formula compute the same function")

#: The network whose params and flops a shipped table records, for tables without a build recipe.
TABLE_NETWORKS = {"nb201-12epoch": ("NAS-Bench-201's CIFAR-10 network",
                                    "16 channels, 5 cells per stage, 3x32x32 input")}

def canonical_counts(space) -> Counter | None:
    """``{canonical form: number of members}`` of ``space`` (from ``space.canonical_classes()``).

    None when the space does not override ``canonical`` (every member is its own
    class) or has more than :data:`MAX_TWIN_SPACE` members.

    Examples
    --------
    >>> import nasviz as nv
    >>> counts = canonical_counts(nv.CellSpace())
    >>> len(counts), sum(counts.values())
    (6466, 15625)
    """
    from ..spaces.base import Space

    if type(space).canonical is Space.canonical or space.size > MAX_TWIN_SPACE:
        return None
    class_of, reps = space.canonical_classes()
    sizes = np.bincount(class_of, minlength=len(reps))
    return Counter({space.canonical(space[int(r)]): int(n) for r, n in zip(reps, sizes)})


def table_network(bench) -> tuple[str, str] | None:
    """``(name, details)`` of the network whose ``params`` and ``flops`` ``bench`` records, or None.

    From :data:`TABLE_NETWORKS`, or from the table's build recipe (``nv.bench.recipe``).

    Examples
    --------
    >>> import nasviz as nv
    >>> table_network(nv.bench.load("digits201"))
    ("digits201's network", '4 channels, 1 cell per stage, 1x8x8 input')
    """
    from .. import bench as nvbench

    if bench.name in TABLE_NETWORKS:
        return TABLE_NETWORKS[bench.name]
    try:
        recipe = nvbench.recipe(bench.name)
    except NasvizError:
        return None
    side = f"1x{recipe.resolution}x{recipe.resolution} input"
    if recipe.space is not None:  # a layer-chain space: each architecture fixes its own widths
        return f"{bench.name}'s network", side
    cells = f"{recipe.cells_per_stage} cell{'s' if recipe.cells_per_stage != 1 else ''} per stage"
    return f"{bench.name}'s network", f"{recipe.channels} channels, {cells}, {side}"


def _build_note(space, shape) -> str:
    """What ``space.build(arch)`` makes, e.g. ``'16 channels, 1 cell per stage, 1x8x8 input'``."""
    import inspect

    try:
        params = inspect.signature(space.build).parameters
    except (TypeError, ValueError):
        params = {}
    parts = []
    channels = params.get("channels")
    if channels is not None and isinstance(channels.default, int):
        parts.append(f"{channels.default} channels")
    cells = params.get("cells_per_stage")
    if cells is not None and isinstance(cells.default, int):
        parts.append(f"{cells.default} cell{'s' if cells.default != 1 else ''} per stage")
    if len(shape) == 3:
        parts.append("x".join(map(str, shape)) + " input")
    return ", ".join(parts)


def _label(value) -> str:
    return value if isinstance(value, str) else repr(value)


def _relevant(space, values: tuple, arch) -> list[bool]:
    """For each decision: whether another of its choices changes the architecture."""
    out = []
    for k, d in enumerate(space.decisions):
        changes = False
        for c in d.choices:
            if c == values[k]:
                continue
            try:
                other = space.from_decisions(values[:k] + (c,) + values[k + 1:])
            except NasvizError:
                changes = True
                break
            if other != arch:
                changes = True
                break
        out.append(changes)
    return out


class SpaceExplorer(WidgetBase):
    """Build an architecture decision by decision and see its drawing and numbers.

    One dropdown per decision of the space (an op per edge for a
    :class:`~nasviz.CellSpace`; the depth and each layer's settings for a
    :class:`~nasviz.MacroSpace`, where settings that change nothing are greyed out).
    Every change redraws the architecture at once and shows its parameters and FLOPs
    (of ``space.build(arch)``, the nasviz network, with its width and input said), its
    canonical (isomorphism) class with a line on how to read it and how many members
    share it, and, for each benchmark, its values and percentile (a table's own
    ``params`` and ``flops`` count the network that table measured, named beside them).
    A cell whose input never reaches its output (all ``none``, or cut off) is flagged:
    it computes a constant, so its accuracy is chance level. *Random* draws a member;
    *Mutate* changes one decision and draws the difference; the text box takes an
    architecture string.

    Parameters
    ----------
    space : Space, optional
        The search space (default ``nv.CellSpace()``).
    benchmarks : sequence of Benchmark or str
        Tables (or names of shipped tables, ``nv.bench.available()``) to look the
        architecture up in.
    seed : int
        Seeds the widget's generator (``rng_``) that *Random* and *Mutate* use.

    Attributes
    ----------
    dropdowns : list of ipywidgets.Dropdown
        One per decision, in ``space.decisions`` order.
    text : ipywidgets.Text
        The architecture string; typing one (and pressing Enter) selects it.
    random_button, mutate_button : ipywidgets.Button
    drawing : ipywidgets.Output
        The drawing (a PNG).
    info : ipywidgets.HTML
        Parameters, FLOPs, canonical class, twins, benchmark values.
    message : ipywidgets.HTML
        Errors (a bad string, a combination the space excludes) appear here.

    Examples
    --------
    >>> import nasviz as nv
    >>> ex = nv.widgets.SpaceExplorer(nv.CellSpace(), seed=0)
    >>> ex.dropdowns[0].value = "nor_conv_3x3"
    >>> ex.arch.ops[0]
    'nor_conv_3x3'
    >>> ex.text.value = "not a cell"
    >>> "malformed cell string" in ex.message.value, ex.arch.ops[0]
    (True, 'nor_conv_3x3')
    """

    _params = ("space", "benchmarks", "seed")

    def __init__(self, space=None, benchmarks=(), seed=0):
        self.space = space
        self.benchmarks = benchmarks
        self.seed = seed
        self._init_common()
        from ..spaces.base import Space
        from ..spaces.cell import CellSpace

        self.space_ = CellSpace() if space is None else space
        if not isinstance(self.space_, Space):
            raise InvalidArgumentError(f"space must be a nasviz Space such as nv.CellSpace(), got {space!r}")
        self.benchmarks_ = _resolve_benchmarks(benchmarks)
        self.rng_ = np.random.default_rng(seed)
        self.previous_ = None
        self._syncing = False
        self._stats: OrderedDict = OrderedDict()

        decisions = self.space_.decisions
        self.dropdowns = [
            W.Dropdown(options=[(_label(c), c) for c in d.choices], value=d.choices[0], description=d.name,
                       style={"description_width": "initial"}, layout=W.Layout(width="auto"))
            for d in decisions
        ]
        self.text = W.Text(description="arch", continuous_update=False, layout=W.Layout(width="100%"),
                           placeholder="an architecture string; Enter selects it")
        self.random_button = W.Button(description="Random", icon="random", tooltip="a random member (seeded)")
        self.mutate_button = W.Button(description="Mutate", icon="code-fork",
                                      tooltip="change one decision and show what changed")
        self.drawing = W.Output(layout=W.Layout(min_height="200px"))
        self.info = W.HTML()
        title = W.HTML(f"<b>SpaceExplorer</b>: {html.escape(repr(self.space_))}, {len(self.space_):,} members")

        for dd in self.dropdowns:
            dd.observe(self._guard(self._on_dropdown), names="value")
        self.text.observe(self._guard(self._on_text), names="value")
        self.random_button.on_click(self._guard(lambda _: self.random()))
        self.mutate_button.on_click(self._guard(lambda _: self.mutate()))

        controls = W.VBox([self._decision_box(decisions), W.HBox([self.random_button, self.mutate_button])],
                          layout=W.Layout(min_width="270px"))
        right = W.VBox([self.drawing, self.info])
        self.box = W.VBox([title, W.HBox([controls, right]), self.text, self.message])
        self._arch = None
        self.set_arch(self.space_.sample(seed=self.rng_))

    def _decision_box(self, decisions):
        """A list of dropdowns, or a table (rows of 'layer i' settings) for grouped decisions."""
        groups: OrderedDict = OrderedDict()
        for dd, d in zip(self.dropdowns, decisions):
            group, _, field = d.name.rpartition(" ")
            groups.setdefault(group, []).append((field, dd))
        grouped = [g for g, items in groups.items() if g and len(items) > 1]
        if len(grouped) < 2:
            return W.VBox(self.dropdowns)
        rows = []
        fields = [f for f, _ in groups[grouped[0]]]
        header = [W.HTML("", layout=W.Layout(width="60px"))] + [
            W.HTML(f"<b>{html.escape(f)}</b>", layout=W.Layout(width="92px")) for f in fields]
        rows.append(W.HBox(header))
        for group, items in groups.items():
            if group in grouped:
                for _, dd in items:
                    dd.description = ""
                    dd.layout = W.Layout(width="92px")
                rows.append(W.HBox([W.HTML(html.escape(group), layout=W.Layout(width="60px"))]
                                   + [dd for _, dd in items]))
            else:
                for _, dd in items:
                    dd.layout = W.Layout(width="250px")
                    rows.append(dd)
        return W.VBox(rows)

    # -- the public face -------------------------------------------------------------
    @property
    def arch(self):
        """The architecture shown."""
        return self._arch

    def set_arch(self, arch, *, diff_from=None):
        """Show ``arch`` (an architecture of the space, or its string).

        ``diff_from``: draw what changed from that architecture (as *Mutate* does).
        Raises a :class:`~nasviz.errors.NasvizError` for a non-member.
        """
        if isinstance(arch, str):
            arch = self.space_.from_string(arch)
        if arch not in self.space_:
            raise InvalidArchitectureError(f"{arch!r} is not a member of {self.space_!r}")
        with self._lock:
            self.previous_ = self._arch
            self._arch = arch
            self._sync_controls(arch)
            self._render(diff_from)
        return arch

    def random(self):
        """Show a random member (drawn with the widget's generator); return it."""
        return self.set_arch(self.space_.sample(seed=self.rng_))

    def mutate(self):
        """Change one decision at random, draw the difference; return the new architecture."""
        old = self._arch
        return self.set_arch(self.space_.mutate(old, seed=self.rng_), diff_from=old)

    # -- callbacks -------------------------------------------------------------------
    def _on_dropdown(self, change):
        if self._syncing:
            return
        values = tuple(dd.value for dd in self.dropdowns)
        arch = self.space_.from_decisions(values)
        if arch not in self.space_:
            self._sync_controls(self._arch)
            raise InvalidArchitectureError(
                f"that combination is not a member of {self.space_!r}; the previous choice is restored")
        self.set_arch(arch)

    def _on_text(self, change):
        if self._syncing or change["new"] == str(self._arch):
            return
        self.set_arch(self.space_.from_string(change["new"].strip()))

    # -- display ---------------------------------------------------------------------
    def _sync_controls(self, arch) -> None:
        values = tuple(self.space_.to_decisions(arch))
        relevant = _relevant(self.space_, values, arch)
        self._syncing = True
        try:
            for dd, v, rel in zip(self.dropdowns, values, relevant):
                if rel or dd.value is None:
                    dd.value = v
                dd.disabled = not rel
            self.text.value = str(arch)
        finally:
            self._syncing = False

    def _render(self, diff_from=None) -> None:
        from ..drawing.layout import arch_kind

        arch = self._arch
        room = (7.5, 4.5) if arch_kind(arch) == "cell" else (7.5, 6.0)  # a chain wraps into rows
        fig = arch_figure(arch, max_size=room, dpi=90, diff_from=diff_from)
        show_figure(self.drawing, fig, dpi=90, alt=str(arch))
        self.info.value = self._info_html(arch)

    def stats(self, arch=None) -> dict:
        """Numbers shown for ``arch`` (default: the one shown): params, flops, canonical,
        class_size, disconnected (None for a space without ``is_disconnected``), and per
        benchmark ``{metric: (value, percentile)}``."""
        arch = self._arch if arch is None else arch
        out = dict(self._model_stats(arch))
        check = getattr(self.space_, "is_disconnected", None)
        out["disconnected"] = bool(check(arch)) if callable(check) else None
        counts = canonical_counts(self.space_)
        out["canonical"] = self.space_.canonical(arch)
        out["class_size"] = None if counts is None else counts[out["canonical"]]
        out["benchmarks"] = {}
        for bench in self.benchmarks_:
            if arch not in bench:
                out["benchmarks"][bench.name] = None
                continue
            out["benchmarks"][bench.name] = {m: (bench.query(arch, m), bench.percentile(arch, m))
                                             for m in bench.metrics}
        return out

    def _model_stats(self, arch) -> dict:
        if arch in self._stats:
            return self._stats[arch]
        try:
            from ..model_stats import count_flops, count_params

            model = self.space_.build(arch)
            shape = tuple(getattr(arch, "input_shape", None) or getattr(self.space_, "input_shape", (1, 8, 8)))
            stats = {"params": count_params(model), "flops": count_flops(model, shape), "input_shape": shape}
        except Exception as err:  # noqa: BLE001 - a space without a PyTorch build still explores
            stats = {"params": None, "flops": None, "input_shape": None, "stats_error": str(err)}
        self._stats[arch] = stats
        while len(self._stats) > 4096:
            self._stats.popitem(last=False)
        return stats

    def _info_html(self, arch) -> str:
        from ..spaces.cell import CellSpace

        s = self.stats(arch)
        rows = []
        if s["params"] is not None:
            note = _build_note(self.space_, s["input_shape"])
            rows.append([f"parameters (this nasviz network, space.build(arch): {note})" if note
                         else "parameters (this nasviz network, space.build(arch))", f"{s['params']:,}"])
            rows.append(["FLOPs per image (the same network)", f"{s['flops']:,}"])
        else:
            rows.append(["parameters / FLOPs", f"unavailable: {s.get('stats_error', '')}"])
        if s["class_size"] is not None or s["canonical"] != str(arch):
            rows.append(["canonical class", s["canonical"]])
            if isinstance(self.space_, CellSpace):
                rows.append(["how to read it", CANONICAL_NOTE])
        if s["class_size"] is not None:
            twins = s["class_size"] - 1
            note = (f"{twins:,} other member{'s' if twins != 1 else ''} compute the same function "
                    f"(class of {s['class_size']:,})")
            rows.append(["isomorphic twins", note])
        parts = []
        if s["disconnected"]:
            parts.append(f"<div style='color:#8a4b00;background:#fff4e0;border-left:3px solid #c77700;"
                         f"padding:2px 8px;font-size:13px'>{html.escape(DISCONNECTED_NOTE.capitalize())}: no "
                         "chain of edges other than <code>none</code> leads from the input to the output, so the "
                         "cell computes nothing (a constant) and the network scores what guessing scores.</div>")
        parts.append(table_html(["", ""], rows))
        benches = {b.name: b for b in self.benchmarks_}
        for name, values in s["benchmarks"].items():
            if values is None:
                parts.append(f"<p><b>{html.escape(name)}</b>: not in this table</p>")
                continue
            network = table_network(benches[name]) if name in benches else None
            brow = []
            for m, (v, pct) in values.items():
                value = f"{v:,.0f}" if m in ("params", "flops") else f"{v:.4f}"
                label = m
                if m in ("params", "flops"):
                    label = f"{m} ({network[0] if network else 'the network this table measured'})"
                brow.append([label, value, "" if math.isnan(pct) else f"{pct:.1f}"])
            caption = f"{name} ({DISCONNECTED_NOTE})" if s["disconnected"] else name
            parts.append(table_html(["metric", "value", "percentile"], brow, caption=caption))
            if network is not None and any(m in values for m in ("params", "flops")):
                parts.append(f"<div style='font-size:11px;color:#555'>params and flops of {html.escape(name)} "
                             f"count {html.escape(network[0], quote=False)} ({html.escape(network[1], quote=False)}), "
                             "not the network above</div>")
        return "".join(parts)

    def _state(self) -> str:
        return f"arch={str(self._arch)!r}"


def _resolve_benchmarks(benchmarks) -> list:
    from ..bench import Benchmark, load

    if benchmarks is None:
        return []
    if isinstance(benchmarks, (str, Benchmark)):
        benchmarks = [benchmarks]
    out = []
    for b in benchmarks:
        if isinstance(b, str):
            b = load(b)
        if not isinstance(b, Benchmark):
            raise InvalidArgumentError(f"benchmarks must be Benchmark objects or table names "
                                       f"(nv.bench.available()), got {b!r}")
        out.append(b)
    return out
