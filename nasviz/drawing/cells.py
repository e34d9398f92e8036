"""Drawing architectures: :func:`draw` (a cell, or a layer chain) and :func:`draw_diff`.

A **cell** is drawn as a layered DAG: nodes left to right by topological generation,
one arrow per edge, coloured *and* dashed by op (see :mod:`~nasviz.drawing.styles`).
Edges that skip nodes are curved, alternately above and below the row of nodes and
higher the more nodes they skip, so that they overlap neither each other nor the nodes
(the positions: :func:`~nasviz.drawing.layout.cell_layout` and
:func:`~nasviz.drawing.layout.cell_edges`). A **layer chain** is drawn by
:func:`~nasviz.drawing.chains.draw_chain`.

As in NetworkX, the drawing functions take ``ax=None`` (then they draw on
``plt.gca()``) and return the Axes; matplotlib is imported inside them only.

Examples
--------
>>> import matplotlib
>>> matplotlib.use("Agg")
>>> import matplotlib.pyplot as plt
>>> import nasviz as nv
>>> fig, ax = plt.subplots(figsize=(7, 3.4))
>>> nv.draw(nv.CellSpace().sample(seed=0), ax=ax) is ax
True
>>> plt.close(fig)
"""

from __future__ import annotations

from ..errors import InvalidArchitectureError, check_positive_int
from ..validation import check_bool, check_number
from ._axes import add_legend, check_ax, get_ax, pt_per_unit
from .chains import draw_chain
from .layout import (
    NODE_RADIUS,
    arch_kind,
    cell_edges,
    cell_extent,
    cell_layout,
    diff_edges,
    macro_diff,
    macro_extent,
    macro_layout,
    node_labels,
)
from .styles import clamp, edge_font, edge_line, label_fontsize, op_order, op_styles

__all__ = ["default_figsize", "draw", "draw_diff"]


def default_figsize(arch, *, per_row: int = 6) -> tuple[float, float]:
    """A figure size (inches) at which :func:`draw` gives ``arch`` readable text.

    ``per_row``: for a layer chain, the boxes per row of the drawing (as in
    :func:`draw`); fewer per row give a narrower, taller figure. Cells ignore it.

    Examples
    --------
    >>> import nasviz as nv
    >>> default_figsize(nv.CellSpace().sample(seed=0))
    (7.4, 4.1)
    >>> chain = nv.MacroSpace(max_layers=3).sample(seed=1)
    >>> default_figsize(chain, per_row=3)[0] < default_figsize(chain)[0]
    True
    """
    per_row = check_positive_int("per_row", per_row)
    # matplotlib's default subplot fills 77.5% of the width and 77% of the height
    if arch_kind(arch) == "cell":
        pos = cell_layout(arch)
        x0, x1, y0, y1 = cell_extent(pos, cell_edges(arch))
        inch = 1.6  # per node spacing: room for 8-point labels
        return (round(clamp(inch * (x1 - x0) / 0.775, 4.0, 14.0), 1),
                round(clamp((inch * (y1 - y0) + 0.5) / 0.77, 2.5, 10.0), 1))
    boxes, _ = macro_layout(arch, per_row=per_row)
    x0, x1, y0, y1 = macro_extent(boxes)
    return (round(clamp((x1 - x0) / 0.775, 3.0, 16.0), 1), round(clamp((y1 - y0 + 0.6) / 0.77, 2.0, 12.0), 1))


def _draw_nodes(ax, arch, at, *, scale, fontsize) -> dict:
    """The node circles and their labels; returns ``{node: circle}``."""
    from matplotlib.patches import Circle

    names = node_labels(arch)
    circles = {}
    for n, p in cell_layout(arch).items():
        end = names.get(n) in ("in", "out")
        circle = Circle(at(p), NODE_RADIUS * scale, facecolor="#E6E6E6" if end else "white", edgecolor="#222222",
                        linewidth=1.2, zorder=3, gid=f"node {n}")
        ax.add_patch(circle)
        circles[n] = circle
        ax.text(*at(p), names.get(n, str(n)), ha="center", va="center", fontsize=fontsize + 0.5,
                fontweight="bold", zorder=4, gid=f"node label {n}")
    return circles


def _draw_edges(ax, arch, at, circles, styles, *, show_none, labels, fontsize, highlight):
    from matplotlib.patches import FancyArrowPatch

    pos = cell_layout(arch)
    for e in cell_edges(arch, show_none=show_none):
        color, style = styles[e.op]
        hot = highlight is not None and (e.source, e.target) in highlight
        faded = highlight is not None and not hot
        lw, alpha = edge_line(e.op, hot=hot, faded=faded)
        ax.add_patch(FancyArrowPatch(
            at(pos[e.source]), at(pos[e.target]), arrowstyle="-|>", mutation_scale=1.5 * fontsize + 3,
            connectionstyle=f"arc3,rad={e.rad}", patchA=circles[e.source], patchB=circles[e.target],
            shrinkA=0, shrinkB=1, color=color, linestyle=style, linewidth=lw, alpha=alpha,
            zorder=2 if hot else 1, gid=f"edge {e.source}->{e.target}",
        ))
        if labels or hot:
            text = highlight[(e.source, e.target)] if hot else e.op
            ax.text(*at(e.label_xy), text, ha="center", va="center", fontsize=fontsize,
                    zorder=6 if hot else 5, gid=f"edge label {e.source}->{e.target}",
                    bbox={"boxstyle": "round,pad=0.25", "facecolor": "white", "edgecolor": color,
                          "linewidth": 2.0 if hot else 0.8, "alpha": 0.45 if faded else 0.95},
                    **edge_font(e.op, hot=hot, faded=faded))


def draw_cell_into(ax, arch, *, origin=(0.0, 0.0), scale=1.0, show_none=True, labels=True, colors=None,
                   fontsize=9.0, highlight=None) -> list:
    """Draw a cell on ``ax`` at ``origin`` (data units) scaled by ``scale``.

    ``highlight``: ``None`` or ``{(u, v): text}``; when given, those edges are drawn
    thick with ``text`` as their label and every other edge is faded. Returns the legend
    handles (one per op drawn).
    """
    from matplotlib.lines import Line2D

    styles = op_styles([e.op for e in cell_edges(arch, show_none=show_none)], colors)
    ox, oy = origin

    def at(p):
        return (ox + scale * p[0], oy + scale * p[1])

    circles = _draw_nodes(ax, arch, at, scale=scale, fontsize=fontsize)
    _draw_edges(ax, arch, at, circles, styles, show_none=show_none, labels=labels, fontsize=fontsize,
                highlight=highlight)
    return [Line2D([], [], color=styles[op][0], linestyle=styles[op][1], linewidth=2.0, label=op)
            for op in op_order(styles)]


def _draw_cell_axes(arch, ax, *, show_none, labels, legend, colors, highlight=None, fontsize=None):
    pos = cell_layout(arch)
    edges = cell_edges(arch, show_none=show_none)
    x0, x1, y0, y1 = cell_extent(pos, edges)
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    ax.set_aspect("equal")
    ax.set_axis_off()
    texts = [e.op for e in edges] if labels else []
    if highlight:
        texts += list(highlight.values())
    if fontsize is None:
        fontsize = label_fontsize(pt_per_unit(ax), texts)
    handles = draw_cell_into(ax, arch, show_none=show_none, labels=labels, colors=colors, fontsize=fontsize,
                             highlight=highlight)
    if legend:
        add_legend(ax, handles, fontsize + 0.5)
    return ax


def draw(arch, ax=None, *, show_none: bool = True, labels: bool = True, legend: bool = True,
         colors: dict | None = None, fontsize: float | None = None, per_row: int = 6):
    """Draw an architecture with matplotlib and return the Axes.

    A cell is drawn as a layered DAG (see :func:`~nasviz.drawing.cell_layout` and
    :func:`~nasviz.drawing.cell_edges`): nodes ``in``, ``1``, ``2``, ..., ``out`` left to
    right, one arrow per edge coloured and dashed by op, with the op written on it. A
    layer chain (e.g. a :class:`~nasviz.spaces.MacroArchitecture`) is drawn as boxes with
    the layers' settings and the tensor shape on each arrow (see
    :func:`~nasviz.drawing.macro_layout`).

    Parameters
    ----------
    arch : Architecture
        A cell or a layer chain.
    ax : matplotlib Axes, optional
        Where to draw; ``plt.gca()`` when omitted (a new figure of
        :func:`~nasviz.drawing.default_figsize` when no figure is open). The Axes gets
        equal aspect and no axis lines; text sizes follow its size.
    show_none : bool
        Draw ``none`` (zero) edges faint and dotted; ``False`` hides them.
    labels : bool
        Write the op on each cell edge (the settings in each chain box).
    legend : bool
        A legend of the ops drawn, under the drawing.
    colors : dict, optional
        ``{op: colour}`` overriding the default (colour-blind-safe) colours.
    fontsize : float, optional
        Edge label size in points (cells); by default fitted to the Axes.
    per_row : int
        Layer chains: boxes per row before wrapping.

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import matplotlib.pyplot as plt
    >>> import nasviz as nv
    >>> arch = nv.CellSpace().from_string(
    ...     "|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|")
    >>> from nasviz.drawing import default_figsize
    >>> fig, ax = plt.subplots(figsize=default_figsize(arch))
    >>> ax = nv.draw(arch, ax=ax)
    >>> len([p for p in ax.patches if (p.get_gid() or "").startswith("edge")])
    6
    >>> [t.get_text() for t in ax.get_legend().get_texts()]
    ['skip_connect', 'nor_conv_3x3', 'avg_pool_3x3']
    >>> plt.close(fig)
    """
    kind = arch_kind(arch)
    check_ax(ax)
    show_none, labels, legend = (check_bool("show_none", show_none), check_bool("labels", labels),
                                 check_bool("legend", legend))
    if fontsize is not None:
        check_number("fontsize", fontsize, minimum=0, min_open=True)
    per_row = check_positive_int("per_row", per_row)
    ax = get_ax(ax, default_figsize(arch))
    if kind == "cell":
        return _draw_cell_axes(arch, ax, show_none=show_none, labels=labels, legend=legend, colors=colors,
                               fontsize=fontsize)
    return draw_chain(arch, ax, labels=labels, legend=legend, colors=colors, per_row=per_row)


def _change_note(changes) -> str:
    if changes == (("layer", None, "added"),):
        return "added"
    if changes and changes[0][0] == "op":
        return f"{changes[0][1]} \u2192 {changes[0][2]}"
    return "\n".join(f"{f} {old} \u2192 {new}" for f, old, new in changes)


def draw_diff(a, b, ax=None, *, show_none: bool = True, legend: bool = True, colors: dict | None = None,
              labels: bool = True, fontsize: float | None = None, per_row: int = 6):
    """Draw ``b`` with what changed from ``a`` highlighted; return the Axes.

    For cells, the edges whose op changed (:func:`~nasviz.drawing.diff_edges`) are drawn
    thick and labelled ``old -> new``; the others are faded. For layer chains, the
    changed or added layers (:func:`~nasviz.drawing.macro_diff`) are outlined and
    annotated with the settings that changed; removed layers are listed in the title.
    The title says how many edges (layers) changed.

    ``labels=False`` writes only the changes (cells: the unchanged edges carry no op,
    the legend names them; chains: the unchanged boxes show their op only), which keeps
    a small drawing legible; ``fontsize`` (points) fixes the size of a cell's labels
    (by default fitted to the Axes); ``per_row`` is the boxes per row of a chain, as in
    :func:`draw`.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import matplotlib.pyplot as plt
    >>> import nasviz as nv
    >>> space = nv.CellSpace()
    >>> a = space.sample(seed=0)
    >>> fig, ax = plt.subplots(figsize=(7, 3.6))
    >>> ax = nv.draw_diff(a, space.mutate(a, seed=1), ax=ax)
    >>> ax.get_title()
    '1 edge changed'
    >>> plt.close(fig)
    """
    ka, kb = arch_kind(a), arch_kind(b)
    check_ax(ax)
    show_none, legend, labels = (check_bool("show_none", show_none), check_bool("legend", legend),
                                 check_bool("labels", labels))
    if fontsize is not None:
        check_number("fontsize", fontsize, minimum=0, min_open=True)
    per_row = check_positive_int("per_row", per_row)
    if ka != kb or type(a) is not type(b):
        raise InvalidArchitectureError(
            f"draw_diff needs two architectures of the same kind, got {type(a).__name__} ({ka}) and "
            f"{type(b).__name__} ({kb})"
        )
    ax = get_ax(ax, default_figsize(b))
    if kb == "cell":
        changes = diff_edges(a, b)
        highlight = {(u, v): f"{old} \u2192\n{new}" for u, v, old, new in changes}
        _draw_cell_axes(b, ax, show_none=show_none, labels=labels, legend=legend, colors=colors,
                        highlight=highlight, fontsize=fontsize)
        n = len(changes)
        ax.set_title("no edge changed" if n == 0 else f"{n} edge{'s' if n != 1 else ''} changed",
                     fontsize=10)
        return ax
    changed, removed = macro_diff(a, b)
    notes = {node: _change_note(ch) for node, ch in changed}
    draw_chain(b, ax, labels=labels, legend=legend, colors=colors, highlight=set(notes), notes=notes,
               per_row=per_row)
    n = len(changed)
    title = "no layer changed" if n == 0 and not removed else f"{n} layer{'s' if n != 1 else ''} changed"
    if removed:
        title += f", {len(removed)} removed"
    ax.set_title(title, fontsize=10)
    return ax
