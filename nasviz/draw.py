"""Drawing architectures with matplotlib: cells, layer chains, whole networks and diffs.

A **cell** (:class:`~nasviz.spaces.CellArchitecture`, or any architecture whose
``to_networkx()`` graph is a DAG with an ``op`` on every edge) is drawn as a layered DAG:
nodes left to right by topological generation, one arrow per edge, coloured *and*
dashed by op (Okabe-Ito colours: safe for colour-blind readers, and the dash patterns
keep the ops apart in greyscale print). Edges that skip nodes are curved, alternately
above and below the row of nodes and higher the more nodes they skip, so that they
overlap neither each other nor the nodes.

A **layer chain** (an architecture whose graph nodes carry ``kind`` = ``"input"``,
``"layer"`` or ``"head"``, such as :class:`~nasviz.spaces.MacroArchitecture`) is drawn
as a left-to-right chain of boxes with each layer's settings and the tensor shape on
each arrow.

As in NetworkX, every layout is computed by a plain-data function (:func:`cell_layout`,
:func:`cell_edges`, :func:`macro_layout`, :func:`network_blocks`, :func:`diff_edges`,
:func:`macro_diff`) and drawn by another. Drawing functions take ``ax=None`` (then they
draw on ``plt.gca()``) and return the Axes. matplotlib is imported inside the drawing
functions only, so ``import nasviz`` stays light.

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

import math
import sys
import types
from collections.abc import Sequence
from typing import NamedTuple

from .errors import InvalidArchitectureError, InvalidArgumentError, ShapeError, check_positive_int
from .validation import check_bool, check_number

__all__ = [
    "EdgeGeometry",
    "MacroArrow",
    "MacroBox",
    "NetworkBlock",
    "cell_edges",
    "cell_layout",
    "default_figsize",
    "diff_edges",
    "draw",
    "draw_diff",
    "draw_network",
    "macro_diff",
    "macro_layout",
    "network_blocks",
    "network_figsize",
    "op_styles",
]

# ---------------------------------------------------------------------------------------
# Styles
# ---------------------------------------------------------------------------------------

# Okabe & Ito (2008) colours, safe for the common colour-vision deficiencies.
_BLUE, _ORANGE, _GREEN, _PURPLE = "#0072B2", "#E69F00", "#009E73", "#CC79A7"
_VERMILLION, _SKY, _BLACK, _GREY = "#D55E00", "#56B4E9", "#000000", "#8C8C8C"

_SOLID = "solid"
_DASHED = (0, (4.5, 2))
_DASHDOT = (0, (7, 2, 1.5, 2))
_DASHDOTDOT = (0, (7, 2, 1.5, 2, 1.5, 2))
_LONGDASH = (0, (10, 3))
_SHORTDASH = (0, (2.5, 1.5))
_DOTTED = (0, (1, 2))

# fixed styles for the ops of the built-in spaces: the same op looks the same everywhere
_FIXED_STYLES = {
    # NAS-Bench-201 cell ops
    "none": (_GREY, _DOTTED),
    "skip_connect": (_PURPLE, _DASHED),
    "nor_conv_1x1": (_ORANGE, _DASHDOT),
    "nor_conv_3x3": (_BLUE, _SOLID),
    "avg_pool_3x3": (_GREEN, _DASHDOTDOT),
    # layer-chain ops
    "identity": (_PURPLE, _DASHED),
    "conv": (_BLUE, _SOLID),
    "sep_conv": (_SKY, _LONGDASH),
    "max_pool": (_VERMILLION, _SHORTDASH),
    "avg_pool": (_GREEN, _DASHDOTDOT),
}
# styles handed out, in order, to ops without a fixed style
_POOL = [
    (_VERMILLION, _SHORTDASH), (_SKY, _LONGDASH), (_BLACK, _SOLID), (_BLUE, _DASHDOT),
    (_ORANGE, _SOLID), (_GREEN, _DASHED), (_PURPLE, _SOLID), (_BLACK, _DASHDOTDOT),
]
_NB201_ORDER = ("none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3", "avg_pool_3x3")
_MACRO_ORDER = ("conv", "sep_conv", "max_pool", "avg_pool", "identity")


def _op_order(ops) -> list[str]:
    known = _NB201_ORDER + _MACRO_ORDER
    ops = set(ops)
    return [o for o in known if o in ops] + sorted(o for o in ops if o not in known)


def op_styles(ops: Sequence[str], colors: dict | None = None) -> dict[str, tuple[str, object]]:
    """A ``(colour, linestyle)`` for each op: distinct colours *and* dash patterns.

    Built-in ops (NAS-Bench-201's and the layer-chain ops) always get the same style;
    other ops get unused styles in sorted order. ``colors`` maps ops to colours that
    override the defaults (the dash pattern stays).

    Examples
    --------
    >>> op_styles(["nor_conv_3x3", "none"])["nor_conv_3x3"]
    ('#0072B2', 'solid')
    >>> op_styles(["nor_conv_3x3"], colors={"nor_conv_3x3": "red"})["nor_conv_3x3"]
    ('red', 'solid')
    """
    if colors is not None and not isinstance(colors, dict):
        raise InvalidArgumentError(f"colors must be a dict mapping op names to colours, got {colors!r}")
    if colors:
        from matplotlib.colors import is_color_like

        for op, color in colors.items():
            if not is_color_like(color):
                raise InvalidArgumentError(
                    f"colors[{op!r}] = {color!r} is not a matplotlib colour; use a name ('red'), a hex string "
                    f"('#0072B2') or an RGB tuple")
    out: dict[str, tuple[str, object]] = {}
    ordered = _op_order(ops)
    for op in ordered:
        if op in _FIXED_STYLES:
            out[op] = _FIXED_STYLES[op]
    used = set(out.values())
    free = [s for s in _POOL if s not in used] or list(_POOL)
    k = 0
    for op in ordered:
        if op not in out:
            out[op] = free[k % len(free)]
            k += 1
    for op, color in (colors or {}).items():
        if op in out:
            out[op] = (color, out[op][1])
    return out


def _tint(color: str, amount: float = 0.78) -> tuple[float, float, float]:
    """``color`` mixed with white (``amount`` of white)."""
    from matplotlib.colors import to_rgb

    r, g, b = to_rgb(color)
    return (r + (1 - r) * amount, g + (1 - g) * amount, b + (1 - b) * amount)


# ---------------------------------------------------------------------------------------
# Graph access and dispatch
# ---------------------------------------------------------------------------------------

def _graph(arch):
    to_nx = getattr(arch, "to_networkx", None)
    if not callable(to_nx):
        raise InvalidArchitectureError(
            f"cannot draw {arch!r}: expected a nasviz Architecture (an object with to_networkx()), "
            f"got {type(arch).__name__}; parse strings first, e.g. nv.CellSpace().from_string(text)"
        )
    return to_nx()


def _graph_kind(g) -> str:
    """``"chain"`` (nodes carry ``kind``), ``"cell"`` (``op`` on every edge), else raise."""
    if g.number_of_nodes() and any("kind" in data for _, data in g.nodes(data=True)):
        return "chain"
    if g.number_of_edges() and all("op" in data for _, _, data in g.edges(data=True)):
        return "cell"
    raise InvalidArchitectureError(
        "cannot draw this architecture: its to_networkx() graph has neither a 'kind' attribute on its "
        "nodes (a layer chain: 'input', 'layer', 'head') nor an 'op' attribute on every edge (a cell)"
    )


def _arch_kind(arch) -> str:
    return _graph_kind(_graph(arch))


def _sorted_nodes(nodes) -> list:
    nodes = list(nodes)
    try:
        return sorted(nodes)
    except TypeError:
        return sorted(nodes, key=repr)


def _generations(g) -> list[list]:
    import networkx as nx

    try:
        return [_sorted_nodes(gen) for gen in nx.topological_generations(g)]
    except nx.NetworkXUnfeasible:
        raise InvalidArchitectureError(
            "cannot draw this architecture: its graph has a cycle; only DAGs (cells, layer chains) can be drawn"
        ) from None


# ---------------------------------------------------------------------------------------
# Cells: layout (plain data)
# ---------------------------------------------------------------------------------------

_ARC_BASE = 0.42   # height of an edge that skips one node (node spacing = 1)
_ARC_STEP = 0.36   # extra height per further skipped node
_NODE_R = 0.13     # node radius


def cell_layout(arch) -> dict:
    """Node positions ``{node: (x, y)}``: ``x`` is the topological generation (inputs
    at 0, one step per generation), nodes of one generation spread vertically 1 apart,
    centred on ``y = 0``, in sorted order from top to bottom.

    A NAS-Bench-201 cell is a complete DAG, so each node is its own generation and the
    nodes lie in a row.

    Examples
    --------
    >>> import nasviz as nv
    >>> cell_layout(nv.CellSpace().sample(seed=0))
    {0: (0.0, 0.0), 1: (1.0, 0.0), 2: (2.0, 0.0), 3: (3.0, 0.0)}
    """
    g = _graph(arch)
    if _graph_kind(g) != "cell":
        raise InvalidArchitectureError(f"cell_layout needs a cell (an 'op' on every edge), got {arch!r}")
    pos = {}
    for x, gen in enumerate(_generations(g)):
        top = (len(gen) - 1) / 2
        for r, node in enumerate(gen):
            pos[node] = (float(x), float(top - r))
    return pos


class EdgeGeometry(NamedTuple):
    """How one cell edge is drawn (plain data, see :func:`cell_edges`)."""

    source: object
    target: object
    op: str
    #: matplotlib ``arc3`` curvature: 0 is straight; for a left-to-right edge a
    #: negative value bends it upwards and a positive one downwards.
    rad: float
    #: the middle of the drawn curve, where the op label sits
    label_xy: tuple[float, float]


def cell_edges(arch, *, show_none: bool = True) -> list[EdgeGeometry]:
    """The edges to draw, in the graph's edge order, with their curvature and label point.

    Edges between neighbouring generations are straight. An edge that skips ``k >= 1``
    generations is an arc of height ``0.42 + 0.36 * (k - 1)`` (node spacing 1): above
    the nodes when its source is in an even generation, below when odd, so that the
    NAS-Bench-201 arcs 0->2 and 0->3 (above, one inside the other) and 1->3 (below)
    never overlap. ``show_none=False`` leaves out the ``none`` edges.

    Examples
    --------
    >>> import nasviz as nv
    >>> a = nv.CellSpace().from_string("|nor_conv_3x3~0|+|none~0|skip_connect~1|+|none~0|none~1|skip_connect~2|")
    >>> [(e.source, e.target, e.op) for e in cell_edges(a, show_none=False)]
    [(0, 1, 'nor_conv_3x3'), (1, 2, 'skip_connect'), (2, 3, 'skip_connect')]
    >>> cell_edges(a)[1].label_xy      # edge 0 -> 2 arcs above node 1
    (1.0, 0.42)
    """
    g = _graph(arch)
    pos = cell_layout(arch)
    out = []
    for u, v, op in g.edges(data="op"):
        if op == "none" and not show_none:
            continue
        (x1, y1), (x2, y2) = pos[u], pos[v]
        dx, dy = x2 - x1, y2 - y1
        mx, my = (x1 + x2) / 2, (y1 + y2) / 2
        span = round(dx)
        if span <= 1:
            rad = 0.0
            label = (mx, my)
        else:
            height = _ARC_BASE + _ARC_STEP * (span - 2)
            up = round(x1) % 2 == 0
            length = math.hypot(dx, dy)
            rad = (-1.0 if up else 1.0) * 2 * height / length
            label = (mx + 0.5 * rad * dy, my - 0.5 * rad * dx)
        out.append(EdgeGeometry(u, v, str(op), round(rad, 6), (round(label[0], 6), round(label[1], 6))))
    return out


def _node_labels(g) -> dict:
    sources = [n for n in g.nodes if g.in_degree(n) == 0]
    sinks = [n for n in g.nodes if g.out_degree(n) == 0]
    labels = {}
    for n, data in g.nodes(data=True):
        role = data.get("role")
        if role == "input" or (role is None and sources == [n]):
            labels[n] = "in"
        elif role == "output" or (role is None and sinks == [n]):
            labels[n] = "out"
        else:
            labels[n] = str(n)
    return labels


# ---------------------------------------------------------------------------------------
# Cells: drawing
# ---------------------------------------------------------------------------------------

def _pt_per_unit(ax) -> float:
    """Points per data unit of an equal-aspect Axes whose limits are set."""
    fig = ax.figure
    box = ax.get_position(original=True)
    w_in = box.width * fig.get_figwidth()
    h_in = box.height * fig.get_figheight()
    x0, x1 = ax.get_xlim()
    y0, y1 = ax.get_ylim()
    return 72.0 * min(w_in / abs(x1 - x0), h_in / abs(y1 - y0))


def _clamp(v, lo, hi):
    return max(lo, min(hi, v))


def _label_fontsize(ppu: float, labels: Sequence[str], room: float = 0.48) -> float:
    """A font size at which the longest label line fits ``room`` data units."""
    chars = max([4] + [len(line) for text in labels for line in text.split("\n")])
    return _clamp(room * ppu / (0.6 * chars + 1.0), 4.5, 9.0)


def _cell_extent(pos, edges, pad: float = 0.3) -> tuple[float, float, float, float]:
    xs = [p[0] for p in pos.values()]
    ys = [p[1] for p in pos.values()] + [e.label_xy[1] for e in edges]
    return min(xs) - pad, max(xs) + pad, min(ys) - pad + 0.08, max(ys) + pad - 0.08


def _draw_cell_into(ax, arch, *, origin=(0.0, 0.0), scale=1.0, show_none=True, labels=True, colors=None,
                    fontsize=9.0, highlight=None, node_labels=None):
    """Draw a cell on ``ax`` at ``origin`` (data units) scaled by ``scale``.

    ``highlight``: ``None`` or ``{(u, v): text}``; when given, those edges are drawn
    thick with ``text`` as their label and every other edge is faded. Returns the legend
    handles (one per op drawn).
    """
    from matplotlib.lines import Line2D
    from matplotlib.patches import Circle, FancyArrowPatch

    g = _graph(arch)
    pos = cell_layout(arch)
    edges = cell_edges(arch, show_none=show_none)
    styles = op_styles([e.op for e in edges], colors)
    ox, oy = origin

    def at(p):
        return (ox + scale * p[0], oy + scale * p[1])

    names = _node_labels(g) if node_labels is None else dict(node_labels)
    circles = {}
    for n, p in pos.items():
        end = names.get(n) in ("in", "out")
        circle = Circle(at(p), _NODE_R * scale, facecolor="#E6E6E6" if end else "white", edgecolor="#222222",
                        linewidth=1.2, zorder=3, gid=f"node {n}")
        ax.add_patch(circle)
        circles[n] = circle
        ax.text(*at(p), names.get(n, str(n)), ha="center", va="center", fontsize=fontsize + 0.5,
                fontweight="bold", zorder=4, gid=f"node label {n}")

    for e in edges:
        color, style = styles[e.op]
        hot = highlight is not None and (e.source, e.target) in highlight
        faded = highlight is not None and not hot
        if e.op == "none":
            lw, alpha = 1.2, 0.75
        else:
            lw, alpha = 2.0, 1.0
        if hot:
            lw, alpha = 3.6, 1.0
        elif faded:
            alpha *= 0.3
        arrow = FancyArrowPatch(
            at(pos[e.source]), at(pos[e.target]), arrowstyle="-|>", mutation_scale=1.5 * fontsize + 3,
            connectionstyle=f"arc3,rad={e.rad}", patchA=circles[e.source], patchB=circles[e.target],
            shrinkA=0, shrinkB=1, color=color, linestyle=style, linewidth=lw, alpha=alpha,
            zorder=2 if hot else 1, gid=f"edge {e.source}->{e.target}",
        )
        ax.add_patch(arrow)
        if labels or hot:
            text = highlight[(e.source, e.target)] if hot else e.op
            ax.text(
                *at(e.label_xy), text, ha="center", va="center", fontsize=fontsize,
                color="#222222" if e.op != "none" or hot else "#666666", alpha=0.6 if faded else 1.0,
                fontweight="bold" if hot else "normal",
                fontstyle="italic" if e.op == "none" and not hot else "normal",
                zorder=6 if hot else 5, gid=f"edge label {e.source}->{e.target}",
                bbox={"boxstyle": "round,pad=0.25", "facecolor": "white", "edgecolor": color,
                          "linewidth": 2.0 if hot else 0.8, "alpha": 0.45 if faded else 0.95},
            )
    return [
        Line2D([], [], color=styles[op][0], linestyle=styles[op][1], linewidth=2.0, label=op)
        for op in _op_order(styles)
    ]


def _legend(ax, handles, fontsize, ncol=3, **kwargs):
    if not handles:
        return None
    kwargs.setdefault("loc", "upper center")
    kwargs.setdefault("bbox_to_anchor", (0.5, 0.0))
    return ax.legend(handles=handles, ncol=min(len(handles), ncol), frameon=False, fontsize=fontsize,
                     handlelength=3.6, columnspacing=1.6, **kwargs)


def _check_ax(ax):
    if ax is not None and not (callable(getattr(ax, "add_patch", None)) and hasattr(ax, "figure")):
        raise InvalidArgumentError(f"ax must be a matplotlib Axes (e.g. plt.subplots()[1]) or None, got {ax!r}")
    return ax


def _get_ax(ax, figsize=None):
    """``ax``, else ``plt.gca()``; with no figure open, a new one of ``figsize``."""
    _check_ax(ax)
    if ax is None:
        import matplotlib.pyplot as plt

        if figsize is not None and not plt.get_fignums():
            plt.figure(figsize=figsize)
        ax = plt.gca()
    return ax


def _draw_cell_axes(arch, ax, *, show_none, labels, legend, colors, highlight=None, fontsize=None):
    pos = cell_layout(arch)
    edges = cell_edges(arch, show_none=show_none)
    x0, x1, y0, y1 = _cell_extent(pos, edges)
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    ax.set_aspect("equal")
    ax.set_axis_off()
    texts = [e.op for e in edges] if labels else []
    if highlight:
        texts += list(highlight.values())
    if fontsize is None:
        fontsize = _label_fontsize(_pt_per_unit(ax), texts)
    handles = _draw_cell_into(ax, arch, show_none=show_none, labels=labels, colors=colors, fontsize=fontsize,
                              highlight=highlight)
    if legend:
        _legend(ax, handles, fontsize + 0.5)
    return ax


# ---------------------------------------------------------------------------------------
# Layer chains: layout (plain data) and drawing
# ---------------------------------------------------------------------------------------

class MacroBox(NamedTuple):
    """One box of a layer-chain drawing (data units: about an inch at 8-point text)."""

    node: object
    kind: str          # "input", "layer" or "head"
    op: str | None
    text: str          # first line is the title
    x: float           # centre
    y: float
    width: float
    height: float


class MacroArrow(NamedTuple):
    """One arrow of a layer-chain drawing: a polyline from box to box."""

    source: object
    target: object
    text: str          # the tensor shape, e.g. "16x8x8", or ""
    points: tuple[tuple[float, float], ...]
    text_xy: tuple[float, float]


_CHAR_W = 0.075   # data units per character at 8 pt (1 unit ~ 1 inch)
_LINE_H = 0.16    # data units per text line at 8 pt


def _shape_text(shape) -> str:
    if shape is None:
        return ""
    if isinstance(shape, (tuple, list)):
        return "x".join(str(int(s)) for s in shape)
    return str(shape)


def _box_text(data: dict) -> str:
    if data.get("label"):
        return str(data["label"])
    kind = data.get("kind")
    if kind != "layer":
        return str(kind)
    lines = [str(data.get("op", "layer"))]
    if data.get("filters") is not None:
        lines[0] += f" {data['filters']}"
    if data.get("kernel") is not None:
        k = data["kernel"]
        lines.append(f"{k}x{k}" + (f" s{data['stride']}" if data.get("stride") is not None else ""))
    if data.get("activation"):
        lines.append(str(data["activation"]))
    if data.get("dropout"):
        lines.append(f"drop {data['dropout']:g}")
    return "\n".join(lines)


def macro_layout(arch, *, per_row: int = 6) -> tuple[list[MacroBox], list[MacroArrow]]:
    """Boxes and arrows of a layer chain, left to right, ``per_row`` boxes per row.

    All boxes share one size (the largest text decides). Arrows carry the edge's
    ``shape`` as text; an arrow that wraps to the next row runs down, back left and
    down again.

    Examples
    --------
    >>> import nasviz as nv
    >>> a = nv.MacroSpace().from_string("conv(16,k3,s1,relu,d0.0) > max_pool(k3,s2)")
    >>> boxes, arrows = macro_layout(a)
    >>> [(b.kind, b.op) for b in boxes]
    [('input', None), ('layer', 'conv'), ('layer', 'max_pool'), ('head', None)]
    >>> [a.text for a in arrows]
    ['1x8x8', '16x8x8', '16x4x4']
    """
    per_row = check_positive_int("per_row", per_row)
    g = _graph(arch)
    if _graph_kind(g) != "chain":
        raise InvalidArchitectureError(f"macro_layout needs a layer chain (nodes with 'kind'), got {arch!r}")
    import networkx as nx

    try:
        order = list(nx.lexicographical_topological_sort(g, key=repr))
    except nx.NetworkXUnfeasible:
        raise InvalidArchitectureError("cannot draw this layer chain: its graph has a cycle") from None
    texts = {n: _box_text(g.nodes[n]) for n in order}
    chars = max(len(line) for t in texts.values() for line in t.split("\n"))
    lines = max(len(t.split("\n")) for t in texts.values())
    width = round(max(0.9, _CHAR_W * chars + 0.3), 3)
    height = round(max(0.7, _LINE_H * lines + 0.3), 3)
    shapes = {(u, v): _shape_text(s) for u, v, s in g.edges(data="shape")}
    gap = round(max(0.6, _CHAR_W * 0.9 * max([0] + [len(t) for t in shapes.values()]) + 0.2), 3)
    row_step = height + 0.8
    boxes = []
    for i, n in enumerate(order):
        row, col = divmod(i, per_row)
        data = g.nodes[n]
        boxes.append(MacroBox(n, str(data.get("kind")), data.get("op"), texts[n],
                              round(col * (width + gap), 3), round(-row * row_step, 3), width, height))
    where = {b.node: b for b in boxes}
    arrows = []
    for u, v in g.edges:
        a, b = where[u], where[v]
        text = shapes.get((u, v), "")
        if abs(a.y - b.y) < 1e-9:
            pts = ((a.x + width / 2, a.y), (b.x - width / 2, b.y))
            text_xy = ((pts[0][0] + pts[1][0]) / 2, a.y)
        else:
            mid = round((a.y - height / 2 + b.y + height / 2) / 2, 3)
            pts = ((a.x, a.y - height / 2), (a.x, mid), (b.x, mid), (b.x, b.y + height / 2))
            text_xy = ((a.x + b.x) / 2, mid)
        arrows.append(MacroArrow(u, v, text, pts, text_xy))
    return boxes, arrows


def _macro_extent(boxes, pad=0.25):
    x0 = min(b.x - b.width / 2 for b in boxes) - pad
    x1 = max(b.x + b.width / 2 for b in boxes) + pad
    y0 = min(b.y - b.height / 2 for b in boxes) - pad
    y1 = max(b.y + b.height / 2 for b in boxes) + pad
    return x0, x1, y0, y1


def _draw_macro_into(ax, boxes, arrows, *, fontsize, colors=None, labels=True, highlight=None, notes=None):
    """Draw a layer chain; ``highlight``: nodes drawn bold (others faded) when not None;
    ``notes``: ``{node: text}`` written under the box. Returns legend handles."""
    from matplotlib.patches import FancyArrowPatch, FancyBboxPatch, Patch
    from matplotlib.path import Path

    styles = op_styles([b.op for b in boxes if b.op], colors)
    for b in boxes:
        hot = highlight is not None and b.node in highlight
        faded = highlight is not None and not hot
        if b.op:
            color, style = styles[b.op]
            face, edge = _tint(color), color
        else:
            face, edge, style = "#E6E6E6", "#444444", _SOLID
        patch = FancyBboxPatch(
            (b.x - b.width / 2, b.y - b.height / 2), b.width, b.height, boxstyle="round,pad=0,rounding_size=0.08",
            facecolor=face, edgecolor="#000000" if hot else edge, linestyle=_SOLID if hot else style,
            linewidth=3.0 if hot else 1.6, alpha=0.35 if faded else 1.0, zorder=2, gid=f"box {b.node}",
        )
        ax.add_patch(patch)
        lines = b.text.split("\n") if labels or b.kind != "layer" else b.text.split("\n")[:1]
        top = b.y + (len(lines) - 1) * _LINE_H / 2 * fontsize / 8
        alpha = 0.4 if faded else 1.0
        ax.text(b.x, top, lines[0], ha="center", va="center", fontsize=fontsize, fontweight="bold",
                alpha=alpha, zorder=3, gid=f"box title {b.node}")
        if len(lines) > 1:
            ax.text(b.x, top - _LINE_H * fontsize / 8 / 2, "\n".join(lines[1:]), ha="center", va="top",
                    fontsize=fontsize, linespacing=1.15, alpha=alpha, zorder=3, gid=f"box text {b.node}")
        if notes and b.node in notes:
            ax.text(b.x, b.y - b.height / 2 - 0.08, notes[b.node], ha="center", va="top", fontsize=fontsize,
                    fontweight="bold", color="#000000", zorder=4, gid=f"note {b.node}",
                    bbox={"boxstyle": "round,pad=0.25", "facecolor": "#FFF3C4", "edgecolor": "#000000",
                          "linewidth": 0.8})
    for a in arrows:
        path = Path(list(a.points), [Path.MOVETO] + [Path.LINETO] * (len(a.points) - 1))
        ax.add_patch(FancyArrowPatch(path=path, arrowstyle="-|>", mutation_scale=1.5 * fontsize + 3,
                                     color="#333333", linewidth=1.3, zorder=1, gid=f"arrow {a.source}->{a.target}"))
        if a.text:
            straight = len(a.points) == 2
            ax.text(a.text_xy[0], a.text_xy[1] + (0.06 if straight else 0.0), a.text, ha="center",
                    va="bottom" if straight else "center", fontsize=fontsize - 1, color="#333333", zorder=3,
                    gid=f"shape {a.source}->{a.target}",
                    bbox=None if straight else {"boxstyle": "round,pad=0.15", "facecolor": "white",
                                                "edgecolor": "none"})
    return [Patch(facecolor=_tint(styles[op][0]), edgecolor=styles[op][0], linestyle=styles[op][1],
                  linewidth=1.6, label=op) for op in _op_order(styles)]


def _draw_macro_axes(arch, ax, *, labels, legend, colors, highlight=None, notes=None, per_row=6):
    boxes, arrows = macro_layout(arch, per_row=per_row)
    x0, x1, y0, y1 = _macro_extent(boxes)
    if notes:
        y0 -= 0.45
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    ax.set_aspect("equal")
    ax.set_axis_off()
    fontsize = _clamp(8.0 * _pt_per_unit(ax) / 72.0, 4.0, 10.0)
    handles = _draw_macro_into(ax, boxes, arrows, fontsize=fontsize, colors=colors, labels=labels,
                               highlight=highlight, notes=notes)
    if legend:
        _legend(ax, handles, fontsize, ncol=5)
    return ax


# ---------------------------------------------------------------------------------------
# Public drawing functions
# ---------------------------------------------------------------------------------------

def default_figsize(arch) -> tuple[float, float]:
    """A figure size (inches) at which :func:`draw` gives ``arch`` readable text.

    Examples
    --------
    >>> import nasviz as nv
    >>> default_figsize(nv.CellSpace().sample(seed=0))
    (7.4, 4.1)
    """
    # matplotlib's default subplot fills 77.5% of the width and 77% of the height
    if _arch_kind(arch) == "cell":
        pos = cell_layout(arch)
        x0, x1, y0, y1 = _cell_extent(pos, cell_edges(arch))
        inch = 1.6  # per node spacing: room for 8-point labels
        return (round(_clamp(inch * (x1 - x0) / 0.775, 4.0, 14.0), 1),
                round(_clamp((inch * (y1 - y0) + 0.5) / 0.77, 2.5, 10.0), 1))
    boxes, _ = macro_layout(arch)
    x0, x1, y0, y1 = _macro_extent(boxes)
    return (round(_clamp((x1 - x0) / 0.775, 3.0, 16.0), 1), round(_clamp((y1 - y0 + 0.6) / 0.77, 2.0, 12.0), 1))


def draw(arch, ax=None, *, show_none: bool = True, labels: bool = True, legend: bool = True,
         colors: dict | None = None, fontsize: float | None = None, per_row: int = 6):
    """Draw an architecture with matplotlib and return the Axes.

    A cell is drawn as a layered DAG (see :func:`cell_layout` and :func:`cell_edges`):
    nodes ``in``, ``1``, ``2``, ..., ``out`` left to right, one arrow per edge coloured
    and dashed by op, with the op written on it. A layer chain (e.g. a
    :class:`~nasviz.spaces.MacroArchitecture`) is drawn as boxes with the layers'
    settings and the tensor shape on each arrow (see :func:`macro_layout`).

    Parameters
    ----------
    arch : Architecture
        A cell or a layer chain.
    ax : matplotlib Axes, optional
        Where to draw; ``plt.gca()`` when omitted (a new figure of
        :func:`default_figsize` when no figure is open). The Axes gets equal aspect and
        no axis lines; text sizes follow its size.
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
    >>> from nasviz.draw import default_figsize
    >>> fig, ax = plt.subplots(figsize=default_figsize(arch))
    >>> ax = nv.draw(arch, ax=ax)
    >>> len([p for p in ax.patches if (p.get_gid() or "").startswith("edge")])
    6
    >>> [t.get_text() for t in ax.get_legend().get_texts()]
    ['skip_connect', 'nor_conv_3x3', 'avg_pool_3x3']
    >>> plt.close(fig)
    """
    kind = _arch_kind(arch)
    _check_ax(ax)
    show_none, labels, legend = (check_bool("show_none", show_none), check_bool("labels", labels),
                                 check_bool("legend", legend))
    if fontsize is not None:
        check_number("fontsize", fontsize, minimum=0, min_open=True)
    per_row = check_positive_int("per_row", per_row)
    ax = _get_ax(ax, default_figsize(arch))
    if kind == "cell":
        return _draw_cell_axes(arch, ax, show_none=show_none, labels=labels, legend=legend, colors=colors,
                               fontsize=fontsize)
    return _draw_macro_axes(arch, ax, labels=labels, legend=legend, colors=colors, per_row=per_row)


# ---------------------------------------------------------------------------------------
# Diffs
# ---------------------------------------------------------------------------------------

def diff_edges(a, b) -> list[tuple[object, object, str, str]]:
    """The edges whose op differs between cells ``a`` and ``b``: ``(source, target, old, new)``.

    Examples
    --------
    >>> import nasviz as nv
    >>> space = nv.CellSpace()
    >>> a = space.from_string(
    ...     "|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|")
    >>> b = space.from_string(
    ...     "|nor_conv_3x3~0|+|nor_conv_3x3~0|none~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|")
    >>> diff_edges(a, b)
    [(1, 2, 'avg_pool_3x3', 'none')]
    """
    ga, gb = _graph(a), _graph(b)
    if _graph_kind(ga) != "cell" or _graph_kind(gb) != "cell":
        raise InvalidArchitectureError("diff_edges compares two cells; use macro_diff for layer chains")
    if set(ga.edges) != set(gb.edges):
        raise InvalidArchitectureError(
            f"cannot compare cells with different edges: {sorted(ga.edges, key=repr)} vs {sorted(gb.edges, key=repr)}"
        )
    return [(u, v, str(ga.edges[u, v]["op"]), str(op)) for u, v, op in gb.edges(data="op")
            if ga.edges[u, v]["op"] != op]


_LAYER_FIELDS = ("op", "filters", "kernel", "stride", "activation", "dropout")


def macro_diff(a, b) -> tuple[list[tuple[object, tuple]], list[object]]:
    """What changed from layer chain ``a`` to ``b``, layer by layer (by position).

    Returns ``(changed, removed)``: ``changed`` lists ``(node of b, changes)`` where
    ``changes`` is a tuple of ``(setting, old, new)`` (``("layer", None, "added")`` for a
    layer that ``a`` does not have), and ``removed`` the nodes of ``a`` beyond ``b``'s
    depth.

    Examples
    --------
    >>> import nasviz as nv
    >>> s = nv.MacroSpace()
    >>> a = s.from_string("conv(16,k3,s1,relu,d0.0) > max_pool(k3,s2)")
    >>> b = s.from_string("conv(32,k3,s1,relu,d0.0) > max_pool(k3,s2) > identity")
    >>> macro_diff(a, b)
    ([(1, (('filters', 16, 32),)), (3, (('layer', None, 'added'),))], [])
    """
    ga, gb = _graph(a), _graph(b)
    if _graph_kind(ga) != "chain" or _graph_kind(gb) != "chain":
        raise InvalidArchitectureError("macro_diff compares two layer chains; use diff_edges for cells")

    def layers(g):
        return [n for n in _generation_order(g) if g.nodes[n].get("kind") == "layer"]

    la, lb = layers(ga), layers(gb)
    changed = []
    for k, nb in enumerate(lb):
        if k >= len(la):
            changed.append((nb, (("layer", None, "added"),)))
            continue
        da, db = ga.nodes[la[k]], gb.nodes[nb]
        diffs = tuple((f, da.get(f), db.get(f)) for f in _LAYER_FIELDS if da.get(f) != db.get(f))
        if diffs:
            changed.append((nb, diffs))
    return changed, la[len(lb):]


def _generation_order(g) -> list:
    return [n for gen in _generations(g) for n in gen]


def _change_note(changes) -> str:
    if changes == (("layer", None, "added"),):
        return "added"
    if changes and changes[0][0] == "op":
        return f"{changes[0][1]} \u2192 {changes[0][2]}"
    return "\n".join(f"{f} {old} \u2192 {new}" for f, old, new in changes)


def draw_diff(a, b, ax=None, *, show_none: bool = True, legend: bool = True, colors: dict | None = None):
    """Draw ``b`` with what changed from ``a`` highlighted; return the Axes.

    For cells, the edges whose op changed are drawn thick and labelled ``old -> new``;
    the others are faded. For layer chains, the changed or added layers are outlined
    and annotated with the settings that changed; removed layers are listed in the
    title. The title says how many edges (layers) changed.

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
    ka, kb = _arch_kind(a), _arch_kind(b)
    _check_ax(ax)
    show_none, legend = check_bool("show_none", show_none), check_bool("legend", legend)
    if ka != kb or type(a) is not type(b):
        raise InvalidArchitectureError(
            f"draw_diff needs two architectures of the same kind, got {type(a).__name__} ({ka}) and "
            f"{type(b).__name__} ({kb})"
        )
    ax = _get_ax(ax, default_figsize(b))
    if kb == "cell":
        changes = diff_edges(a, b)
        highlight = {(u, v): f"{old} \u2192\n{new}" for u, v, old, new in changes}
        _draw_cell_axes(b, ax, show_none=show_none, labels=True, legend=legend, colors=colors,
                        highlight=highlight)
        n = len(changes)
        ax.set_title("no edge changed" if n == 0 else f"{n} edge{'s' if n != 1 else ''} changed",
                     fontsize=10)
        return ax
    changed, removed = macro_diff(a, b)
    notes = {node: _change_note(ch) for node, ch in changed}
    _draw_macro_axes(b, ax, labels=True, legend=legend, colors=colors, highlight=set(notes), notes=notes)
    n = len(changed)
    title = "no layer changed" if n == 0 and not removed else f"{n} layer{'s' if n != 1 else ''} changed"
    if removed:
        title += f", {len(removed)} removed"
    ax.set_title(title, fontsize=10)
    return ax


# ---------------------------------------------------------------------------------------
# Whole networks
# ---------------------------------------------------------------------------------------

class NetworkBlock(NamedTuple):
    """One block of a :class:`~nasviz.spaces.CellSpace` network (see :func:`network_blocks`)."""

    kind: str                 # "input", "stem", "cell", "reduction", "pool" or "classifier"
    stage: int                # 1..3 for cells and the reduction opening a stage, else 0
    shape: tuple[int, ...]    # the block's output: (C, H, W), or (num_classes,)
    text: str                 # what the box says


def _check_shape(input_shape) -> tuple[int, int, int]:
    try:
        items = tuple(input_shape)
    except TypeError:
        items = ()
    if len(items) != 3 or not all(isinstance(d, int) and not isinstance(d, bool) and d > 0 for d in items):
        raise ShapeError(f"input_shape must be (channels, height, width) of positive ints, e.g. (1, 8, 8); "
                         f"got {input_shape!r}")
    return items


def network_blocks(*, channels: int = 16, cells_per_stage: int = 1, input_shape=(1, 8, 8),
                   num_classes: int = 10) -> list[NetworkBlock]:
    """The blocks of ``CellSpace.build``'s network, in order, with their output shapes.

    input -> stem (3x3 conv + BN, ``channels``) -> ``cells_per_stage`` cells ->
    reduction (residual block, stride 2, channels x 2) -> cells -> reduction -> cells ->
    BN-ReLU + global average pooling -> linear. A reduction halves the feature map,
    rounding up (odd sizes work: the shortcut pools with ``ceil_mode``).

    Examples
    --------
    >>> [(b.kind, b.shape) for b in network_blocks(channels=8, input_shape=(1, 8, 8))]
    ... # doctest: +NORMALIZE_WHITESPACE
    [('input', (1, 8, 8)), ('stem', (8, 8, 8)), ('cell', (8, 8, 8)), ('reduction', (16, 4, 4)),
     ('cell', (16, 4, 4)), ('reduction', (32, 2, 2)), ('cell', (32, 2, 2)), ('pool', (32, 1, 1)),
     ('classifier', (10,))]
    """
    channels = check_positive_int("channels", channels)
    cells_per_stage = check_positive_int("cells_per_stage", cells_per_stage)
    num_classes = check_positive_int("num_classes", num_classes)
    c_in, h, w = _check_shape(input_shape)
    blocks = [NetworkBlock("input", 0, (c_in, h, w), "input"),
              NetworkBlock("stem", 0, (channels, h, w), "stem\nconv 3x3")]
    c = channels
    for stage in range(1, 4):
        if stage > 1:
            # 3x3 stride-2 convolution; its shortcut pools 2x2 with ceil_mode, so the sizes agree
            c, h, w = 2 * c, (h - 1) // 2 + 1, (w - 1) // 2 + 1
            blocks.append(NetworkBlock("reduction", stage, (c, h, w), "reduction\nstride 2"))
        blocks.extend(NetworkBlock("cell", stage, (c, h, w), "cell") for _ in range(cells_per_stage))
    blocks.append(NetworkBlock("pool", 0, (c, 1, 1), "BN-ReLU\navg pool"))
    blocks.append(NetworkBlock("classifier", 0, (num_classes,), "linear"))
    return blocks


def _block_caption(block: NetworkBlock) -> str:
    if block.kind == "classifier":
        return f"{block.shape[0]} classes"
    c, h, w = block.shape
    return f"{c} ch\n{h}x{w}"


def draw_network(space, arch, ax=None, *, channels: int = 16, cells_per_stage: int = 1, input_shape=(1, 8, 8),
                 num_classes: int = 10, show_none: bool = True, colors: dict | None = None):
    """Draw the whole network that ``space.build(arch, ...)`` makes, with one cell expanded.

    A :class:`~nasviz.spaces.CellSpace` network is drawn left to right as blocks (see
    :func:`network_blocks`) with the channel count and feature-map size under each; the
    cell is drawn below, with guide lines from the first cell block. When
    ``cells_per_stage > 2`` each stage's cells share one box (``"5 x cell"``). For a layer
    chain space the network is the chain itself: this is :func:`draw`.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import matplotlib.pyplot as plt
    >>> import nasviz as nv
    >>> space = nv.CellSpace()
    >>> fig, ax = plt.subplots(figsize=(11, 6))
    >>> ax = nv.draw_network(space, space.sample(seed=0), ax=ax)
    >>> sorted(t.get_text() for t in ax.texts if t.get_gid() == "block title")[:3]
    ['BN-ReLU', 'cell', 'cell']
    >>> plt.close(fig)
    """
    from .spaces.cell import CellSpace

    if not isinstance(space, CellSpace):
        if hasattr(space, "_check_member") and _arch_kind(arch) == "chain":
            return draw(space._check_member(arch), ax=ax, colors=colors)
        raise InvalidArgumentError(
            f"draw_network draws CellSpace networks (or a layer chain's own chain); got {type(space).__name__}"
        )
    arch = space._check_member(arch)
    _check_ax(ax)
    show_none = check_bool("show_none", show_none)
    blocks = network_blocks(channels=channels, cells_per_stage=cells_per_stage, input_shape=input_shape,
                            num_classes=num_classes)
    geometry = _network_geometry(arch, blocks, cells_per_stage, show_none)
    if ax is None:
        import matplotlib.pyplot as plt

        ax = plt.gca() if plt.get_fignums() else _new_network_ax(geometry)
    return _draw_network_axes(ax, arch, geometry, show_none=show_none, colors=colors)


# geometry of the network drawing, in data units
_NB_W, _NB_H, _NB_GAP = 1.15, 0.7, 0.42


def _network_items(blocks, cells_per_stage):
    """Boxes to draw: ``(kind, title, caption, block indices)``; many cells per stage share a box."""
    items = []
    for i, b in enumerate(blocks):
        if b.kind == "cell" and cells_per_stage > 2:
            if items and items[-1][0] == "cell" and blocks[items[-1][3][0]].stage == b.stage:
                items[-1][3].append(i)
                continue
            items.append(["cell", f"{cells_per_stage} \u00d7 cell", _block_caption(b), [i]])
        else:
            items.append([b.kind, b.text, _block_caption(b), [i]])
    return items


def network_figsize(space, arch, *, channels: int = 16, cells_per_stage: int = 1, input_shape=(1, 8, 8),
                    num_classes: int = 10, show_none: bool = True) -> tuple[float, float]:
    """The figure size (inches) that :func:`draw_network` makes when no figure is open;
    the drawing fills it exactly when drawn on ``fig.add_axes((0, 0, 1, 1))``."""
    arch = space._check_member(arch)
    blocks = network_blocks(channels=channels, cells_per_stage=cells_per_stage, input_shape=input_shape,
                            num_classes=num_classes)
    return _network_figsize(_network_geometry(arch, blocks, cells_per_stage, show_none))


def _network_figsize(geometry) -> tuple[float, float]:
    (x0, x1), (y0, y1) = geometry["xlim"], geometry["ylim"]
    inch = min(11.0 / (x1 - x0), 0.95)
    return (round((x1 - x0) * inch, 2), round((y1 - y0) * inch, 2))


def _network_geometry(arch, blocks, cells_per_stage, show_none):
    """Where everything of the network drawing goes (data units)."""
    items = _network_items(blocks, cells_per_stage)
    xs = [k * (_NB_W + _NB_GAP) for k in range(len(items))]
    left, right = xs[0] - _NB_W / 2, xs[-1] + _NB_W / 2
    pos = cell_layout(arch)
    edges = cell_edges(arch, show_none=show_none)
    ex0, ex1, ey0, ey1 = _cell_extent(pos, edges)
    scale = _clamp(0.5 * (right - left) / (ex1 - ex0), 1.4, 2.0)
    caption_bottom = -_NB_H / 2 - 0.5            # two caption lines under each box
    frame_top = caption_bottom - 0.65             # room for the guide lines
    frame_w = scale * (ex1 - ex0) + 0.4
    frame_h = scale * (ey1 - ey0) + 0.45          # the frame caption on top
    frame_left = (left + right) / 2 - frame_w / 2
    origin = (frame_left + 0.2 - scale * ex0, frame_top - 0.4 - scale * ey1)
    return {"items": items, "xs": xs, "left": left, "right": right, "scale": scale, "caption_bottom": caption_bottom,
                "frame": (frame_left, frame_top - frame_h, frame_w, frame_h), "origin": origin,
                "xlim": (left - 0.3, right + 0.3), "ylim": (frame_top - frame_h - 0.5, _NB_H / 2 + 0.3)}


def _new_network_ax(geometry):
    import matplotlib.pyplot as plt

    fig = plt.figure(figsize=_network_figsize(geometry))
    return fig.add_axes((0.0, 0.0, 1.0, 1.0))


def _draw_network_axes(ax, arch, geometry, *, show_none, colors):
    from matplotlib.patches import FancyArrowPatch, FancyBboxPatch

    geo = geometry
    items, xs, scale = geo["items"], geo["xs"], geo["scale"]
    ax.set_xlim(*geo["xlim"])
    ax.set_ylim(*geo["ylim"])
    ax.set_aspect("equal")
    ax.set_axis_off()
    ppu = _pt_per_unit(ax)
    fs = _clamp(_NB_W * ppu / (0.6 * 10 + 1.5), 5.0, 9.0)
    fills = {"cell": (_tint(_BLUE, 0.8), _BLUE), "reduction": (_tint(_ORANGE, 0.75), "#9A6A00"),
             "input": ("#E6E6E6", "#444444"), "stem": ("#F2F2F2", "#444444"),
             "pool": ("#F2F2F2", "#444444"), "classifier": ("#F2F2F2", "#444444")}
    first_cell = None
    for k, (kind, title, caption, _) in enumerate(items):
        x = xs[k]
        face, edge = fills[kind]
        ax.add_patch(FancyBboxPatch((x - _NB_W / 2, -_NB_H / 2), _NB_W, _NB_H,
                                    boxstyle="round,pad=0,rounding_size=0.08", facecolor=face, edgecolor=edge,
                                    linewidth=1.5, zorder=2, gid=f"block {k}"))
        lines = title.split("\n")
        ax.text(x, 0.0 if len(lines) == 1 else 0.11, lines[0], ha="center", va="center", fontsize=fs,
                fontweight="bold", zorder=3, gid="block title")
        if len(lines) > 1:
            ax.text(x, -0.13, "\n".join(lines[1:]), ha="center", va="center", fontsize=fs - 0.5, zorder=3,
                    gid="block text")
        ax.text(x, -_NB_H / 2 - 0.07, caption, ha="center", va="top", fontsize=fs - 0.5, color="#333333",
                linespacing=1.1, zorder=3, gid="block caption")
        if k:
            ax.add_patch(FancyArrowPatch((xs[k - 1] + _NB_W / 2, 0), (x - _NB_W / 2, 0), arrowstyle="-|>",
                                         mutation_scale=1.4 * fs + 3, color="#333333", linewidth=1.2, zorder=1,
                                         gid=f"flow {k - 1}->{k}"))
        if kind == "cell" and first_cell is None:
            first_cell = x
    # the first cell block (and its caption) framed, guide lines to the expanded cell below
    guide = {"color": _BLUE, "lw": 1.0, "ls": (0, (4, 3))}
    bx0, bx1 = first_cell - _NB_W / 2 - 0.07, first_cell + _NB_W / 2 + 0.07
    by0, by1 = geo["caption_bottom"] - 0.04, _NB_H / 2 + 0.07
    ax.add_patch(FancyBboxPatch((bx0, by0), bx1 - bx0, by1 - by0, boxstyle="round,pad=0,rounding_size=0.1",
                                facecolor="none", edgecolor=_BLUE, linewidth=1.0, linestyle=guide["ls"], zorder=0,
                                gid="block frame"))
    fx, fy, fw, fh = geo["frame"]
    ax.plot([bx0, fx], [by0, fy + fh], zorder=0, gid="guide", **guide)
    ax.plot([bx1, fx + fw], [by0, fy + fh], zorder=0, gid="guide", **guide)
    ax.add_patch(FancyBboxPatch((fx, fy), fw, fh, boxstyle="round,pad=0,rounding_size=0.12", facecolor="white",
                                edgecolor=_BLUE, linewidth=1.0, linestyle=guide["ls"], zorder=0, gid="cell frame"))
    edges = cell_edges(arch, show_none=show_none)
    fs_cell = _label_fontsize(ppu * scale, [e.op for e in edges])
    handles = _draw_cell_into(ax, arch, origin=geo["origin"], scale=scale, show_none=show_none, labels=True,
                              colors=colors, fontsize=fs_cell)
    ax.text(fx + 0.12, fy + fh - 0.1, "cell (the same in every stage)", ha="left", va="top", fontsize=fs - 0.5,
            color="#333333", fontstyle="italic", gid="cell caption")
    _legend(ax, handles, fs_cell + 0.5, bbox_to_anchor=(fx + fw / 2, fy - 0.05), bbox_transform=ax.transData)
    return ax


class _CallableModule(types.ModuleType):
    """``nasviz.draw`` names both this module and its :func:`draw` function: once the
    module has been imported (``from nasviz.draw import ...``) the package attribute is
    the module, so the module itself is callable and draws."""

    def __call__(self, arch, ax=None, **kwargs):
        return draw(arch, ax=ax, **kwargs)


sys.modules[__name__].__class__ = _CallableModule
