"""Plain-data layouts: where the nodes, edges, boxes and arrows of a drawing go.

Nothing here imports matplotlib: every function returns plain data (dicts, named
tuples, lists), tested by equality, which :mod:`~nasviz.drawing.cells` and
:mod:`~nasviz.drawing.chains` draw. Positions are in data units (node spacing 1 for
cells; about an inch at 8-point text for layer chains).

A **cell** is any architecture whose ``to_networkx()`` graph is a DAG with an ``op`` on
every edge; a **layer chain** one whose graph nodes carry ``kind`` (``"input"``,
``"layer"`` or ``"head"``), such as :class:`~nasviz.spaces.MacroArchitecture`.

Examples
--------
>>> import nasviz as nv
>>> from nasviz.drawing.layout import cell_layout
>>> cell_layout(nv.CellSpace().sample(seed=0))[3]
(3.0, 0.0)
"""

from __future__ import annotations

import math
from typing import NamedTuple

from ..errors import InvalidArchitectureError, check_positive_int
from ..spaces.macro_layers import LAYER_FIELDS, layer_label

__all__ = ["EdgeGeometry", "MacroArrow", "MacroBox", "cell_edges", "cell_layout", "diff_edges", "macro_diff",
           "macro_layout"]

# ---------------------------------------------------------------------------------------
# Graph access
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


def arch_kind(arch) -> str:
    """``"cell"`` or ``"chain"``: how ``arch`` is drawn (raises if it cannot be).

    Examples
    --------
    >>> import nasviz as nv
    >>> arch_kind(nv.CellSpace().sample(seed=0)), arch_kind(nv.MacroSpace().sample(seed=0))
    ('cell', 'chain')
    """
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
# Cells
# ---------------------------------------------------------------------------------------

_ARC_BASE = 0.42   # height of an edge that skips one node (node spacing = 1)
_ARC_STEP = 0.36   # extra height per further skipped node
NODE_RADIUS = 0.13


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


def node_labels(arch) -> dict:
    """``{node: text}``: ``"in"`` and ``"out"`` for the cell's input and output, else the node.

    Examples
    --------
    >>> import nasviz as nv
    >>> node_labels(nv.CellSpace().sample(seed=0))
    {0: 'in', 1: '1', 2: '2', 3: 'out'}
    """
    g = _graph(arch)
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


def cell_extent(pos, edges, pad: float = 0.3) -> tuple[float, float, float, float]:
    """``(x0, x1, y0, y1)`` around a cell's node positions and edge label points."""
    xs = [p[0] for p in pos.values()]
    ys = [p[1] for p in pos.values()] + [e.label_xy[1] for e in edges]
    return min(xs) - pad, max(xs) + pad, min(ys) - pad + 0.08, max(ys) + pad - 0.08


# ---------------------------------------------------------------------------------------
# Layer chains
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


CHAR_W = 0.075   # data units per character at 8 pt (1 unit ~ 1 inch)
LINE_H = 0.16    # data units per text line at 8 pt


def _shape_text(shape) -> str:
    if shape is None:
        return ""
    if isinstance(shape, (tuple, list)):
        return "x".join(str(int(s)) for s in shape)
    return str(shape)


def _box_text(data: dict) -> str:
    """A node's ``label``, else its layer settings (:func:`~nasviz.spaces.macro.layer_label`), else its kind."""
    if data.get("label"):
        return str(data["label"])
    if data.get("kind") != "layer":
        return str(data.get("kind"))
    fields = {f: data.get(f) for f in LAYER_FIELDS}
    fields["op"] = data.get("op", "layer")
    return layer_label(**fields)


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
    width = round(max(0.9, CHAR_W * chars + 0.3), 3)
    height = round(max(0.7, LINE_H * lines + 0.3), 3)
    shapes = {(u, v): _shape_text(s) for u, v, s in g.edges(data="shape")}
    gap = round(max(0.6, CHAR_W * 0.9 * max([0] + [len(t) for t in shapes.values()]) + 0.2), 3)
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


def macro_extent(boxes, pad=0.25) -> tuple[float, float, float, float]:
    """``(x0, x1, y0, y1)`` around a layer chain's boxes."""
    x0 = min(b.x - b.width / 2 for b in boxes) - pad
    x1 = max(b.x + b.width / 2 for b in boxes) + pad
    y0 = min(b.y - b.height / 2 for b in boxes) - pad
    y1 = max(b.y + b.height / 2 for b in boxes) + pad
    return x0, x1, y0, y1


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


def macro_diff(a, b) -> tuple[list[tuple[object, tuple]], list[object]]:
    """What changed from layer chain ``a`` to ``b``, layer by layer (by position).

    Returns ``(changed, removed)``: ``changed`` lists ``(node of b, changes)`` where
    ``changes`` is a tuple of ``(setting, old, new)`` (``("layer", None, "added")`` for a
    layer that ``a`` does not have), and ``removed`` the nodes of ``a`` beyond ``b``'s
    depth. Settings are compared in :data:`~nasviz.spaces.macro.LAYER_FIELDS` order.
    The fully connected hidden layers after the pooling (``MacroSpace(max_fc_layers=...)``)
    are compared the same way, by position among themselves (setting ``units``).

    Examples
    --------
    >>> import nasviz as nv
    >>> s = nv.MacroSpace()
    >>> a = s.from_string("conv(16,k3,s1,relu,d0.0) > max_pool(k3,s2)")
    >>> b = s.from_string("conv(32,k3,s1,relu,d0.0) > max_pool(k3,s2) > identity")
    >>> macro_diff(a, b)
    ([(1, (('filters', 16, 32),)), (3, (('layer', None, 'added'),))], [])
    >>> s = nv.MacroSpace(max_layers=2, max_fc_layers=2, fc_units=(16, 32))
    >>> macro_diff(s.from_string("conv(16,k3,s1,relu,d0.0) | fc(16)"),
    ...            s.from_string("conv(16,k3,s1,relu,d0.0) | fc(32) > fc(16)"))
    ([(3, (('units', 16, 32),)), (4, (('layer', None, 'added'),))], [])
    """
    ga, gb = _graph(a), _graph(b)
    if _graph_kind(ga) != "chain" or _graph_kind(gb) != "chain":
        raise InvalidArchitectureError("macro_diff compares two layer chains; use diff_edges for cells")

    def nodes(g, kind):
        return [n for gen in _generations(g) for n in gen if g.nodes[n].get("kind") == kind]

    changed, removed = [], []
    for kind, fields in (("layer", LAYER_FIELDS), ("fc", ("units",))):
        la, lb = nodes(ga, kind), nodes(gb, kind)
        for k, nb in enumerate(lb):
            if k >= len(la):
                changed.append((nb, (("layer", None, "added"),)))
                continue
            da, db = ga.nodes[la[k]], gb.nodes[nb]
            diffs = tuple((f, da.get(f), db.get(f)) for f in fields if da.get(f) != db.get(f))
            if diffs:
                changed.append((nb, diffs))
        removed += la[len(lb):]
    return changed, removed
