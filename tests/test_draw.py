import importlib
import itertools

import matplotlib
import matplotlib.colors
import matplotlib.pyplot as plt  # the Agg backend: see conftest.py
import networkx as nx
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure as _Figure

import nasviz as nv
from nasviz.drawing import (
    cell_edges,
    cell_layout,
    default_figsize,
    diff_edges,
    macro_diff,
    macro_layout,
    network_blocks,
    network_figsize,
    op_styles,
)
from nasviz.errors import InvalidArchitectureError, NasvizError, ShapeError
from nasviz.spaces.cell import NB201_OPS

EXAMPLE = "|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|"
WITH_NONE = "|nor_conv_3x3~0|+|none~0|skip_connect~1|+|none~0|none~1|skip_connect~2|"


def Figure(figsize=(6.4, 4.8)):
    fig = _Figure(figsize=figsize)
    FigureCanvasAgg(fig)
    return fig


@pytest.fixture(scope="module")
def space():
    return nv.CellSpace()


@pytest.fixture
def ax():
    fig = Figure(figsize=(7.4, 3.6))
    return fig.add_subplot()


def _gid(artist):
    return artist.get_gid() or ""


def _edge_patches(ax):
    return {_gid(p)[5:]: p for p in ax.patches if _gid(p).startswith("edge ")}


def _edge_labels(ax):
    return {_gid(t)[11:]: t for t in ax.texts if _gid(t).startswith("edge label ")}


def _legend_texts(ax):
    legend = ax.get_legend()
    return [] if legend is None else [t.get_text() for t in legend.get_texts()]


class FakeChain:
    """A stand-in architecture whose graph is a layer chain, like a MacroArchitecture's."""

    def __init__(self, layers, input_shape=(1, 8, 8)):
        self.layers = layers
        self.input_shape = input_shape

    def to_networkx(self):
        g = nx.DiGraph()
        c, h, w = self.input_shape
        g.add_node(0, kind="input", label=f"input\n{c}x{h}x{w}")
        shapes = [self.input_shape]
        for i, (op, filters, stride) in enumerate(self.layers, start=1):
            c = filters or c
            h, w = -(-h // stride), -(-w // stride)
            shapes.append((c, h, w))
            g.add_node(i, kind="layer", op=op, filters=filters, kernel=3, stride=stride, activation="relu",
                       dropout=0.0, label=f"{op} {filters}\n3x3 s{stride}\nrelu")
        head = len(self.layers) + 1
        g.add_node(head, kind="head", label="avg pool\nlinear 10")
        for i in range(head):
            g.add_edge(i, i + 1, shape=shapes[i])
        return g


# -- cell layout (plain data) -----------------------------------------------------------

def test_cell_layout_orders_nodes_left_to_right(space):
    for arch in [space.from_string(EXAMPLE), space.from_string(WITH_NONE), space[0], space[-1]]:
        pos = cell_layout(arch)
        assert pos == {0: (0.0, 0.0), 1: (1.0, 0.0), 2: (2.0, 0.0), 3: (3.0, 0.0)}
    pos5 = cell_layout(nv.CellSpace(nodes=5).sample(seed=1))
    assert [pos5[n][0] for n in range(5)] == [0.0, 1.0, 2.0, 3.0, 4.0]


def test_cell_layout_spreads_a_generation_vertically():
    class Diamond:
        def to_networkx(self):
            g = nx.DiGraph()
            g.add_edges_from([(0, 1), (0, 2), (1, 3), (2, 3), (0, 3)], op="nor_conv_3x3")
            return g

    pos = cell_layout(Diamond())
    assert pos == {0: (0.0, 0.0), 1: (1.0, 0.5), 2: (1.0, -0.5), 3: (2.0, 0.0)}
    edges = cell_edges(Diamond())
    assert sorted((e.source, e.target) for e in edges) == [(0, 1), (0, 2), (0, 3), (1, 3), (2, 3)]
    assert next(e.rad for e in edges if (e.source, e.target) == (0, 3)) < 0  # skips a generation: curved


def test_cell_edges_every_edge_once_and_none_hidden(space):
    a = space.from_string(WITH_NONE)
    edges = cell_edges(a)
    assert {(e.source, e.target): e.op for e in edges} == dict(zip(a.edges, a.ops))
    assert len(edges) == 6
    shown = cell_edges(a, show_none=False)
    assert sorted((e.source, e.target) for e in shown) == [(0, 1), (1, 2), (2, 3)]
    assert all(e.op != "none" for e in shown)
    for arch in itertools.islice(space.enumerate(), 0, 15625, 1601):
        n_none = arch.ops.count("none")
        assert len(cell_edges(arch, show_none=False)) == 6 - n_none


def test_long_edges_curve_apart(space):
    edges = {(e.source, e.target): e for e in cell_edges(space.from_string(EXAMPLE))}
    for short in [(0, 1), (1, 2), (2, 3)]:
        assert edges[short].rad == 0 and edges[short].label_xy[1] == 0
    # 0->2 and 0->3 above the row, one inside the other; 1->3 below
    assert edges[0, 2].label_xy[1] > 0 and edges[0, 3].label_xy[1] > edges[0, 2].label_xy[1]
    assert edges[1, 3].label_xy[1] < 0
    # no arc's label point is near a node
    pos = cell_layout(space.from_string(EXAMPLE))
    for e in edges.values():
        for x, y in pos.values():
            assert abs(e.label_xy[0] - x) + abs(e.label_xy[1] - y) > 0.3


def test_cell_layout_rejects_non_cells():
    with pytest.raises(InvalidArchitectureError, match="to_networkx"):
        cell_layout("|none~0|")
    with pytest.raises(InvalidArchitectureError, match="'op'"):
        cell_layout(FakeChain([("conv", 8, 1)]))


def test_op_styles_distinct_and_overridable():
    styles = op_styles(NB201_OPS)
    assert len({c for c, _ in styles.values()}) == 5
    assert len({repr(ls) for _, ls in styles.values()}) == 5  # greyscale print: dash patterns differ too
    custom = op_styles(["nor_conv_3x3", "my_op", "other_op"], colors={"my_op": "red"})
    assert custom["my_op"][0] == "red"
    assert len(set(custom.values())) == 3
    with pytest.raises(NasvizError, match="colors must be a dict"):
        op_styles(NB201_OPS, colors=["red"])


# -- drawing cells --------------------------------------------------------------------

def test_draw_returns_the_axes_with_edges_labels_legend(space, ax):
    arch = space.from_string(EXAMPLE)
    assert nv.draw(arch, ax=ax) is ax
    assert sorted(_edge_patches(ax)) == sorted(f"{i}->{j}" for i, j in arch.edges)
    assert {k: t.get_text() for k, t in _edge_labels(ax).items()} == {
        f"{i}->{j}": op for (i, j), op in zip(arch.edges, arch.ops)}
    assert _legend_texts(ax) == ["skip_connect", "nor_conv_3x3", "avg_pool_3x3"]
    nodes = sorted(t.get_text() for t in ax.texts if _gid(t).startswith("node label"))
    assert nodes == sorted(["in", "1", "2", "out"])
    # each edge has its op's colour
    styles = op_styles(arch.ops)
    for (i, j), op in zip(arch.edges, arch.ops):
        patch = _edge_patches(ax)[f"{i}->{j}"]
        assert matplotlib.colors.to_hex(patch.get_edgecolor()) == styles[op][0].lower()


def test_draw_hides_none_edges_and_labels(space, ax):
    arch = space.from_string(WITH_NONE)
    nv.draw(arch, ax=ax, show_none=False, labels=False, legend=False)
    assert sorted(_edge_patches(ax)) == ["0->1", "1->2", "2->3"]
    assert _edge_labels(ax) == {}
    assert ax.get_legend() is None

    fig = Figure()
    ax2 = fig.add_subplot()
    nv.draw(arch, ax=ax2)
    assert len(_edge_patches(ax2)) == 6
    assert _legend_texts(ax2) == ["none", "skip_connect", "nor_conv_3x3"]
    faint = _edge_patches(ax2)["0->2"]
    assert faint.get_linewidth() < _edge_patches(ax2)["0->1"].get_linewidth()


def test_draw_uses_gca_when_no_axes(space):
    plt.close("all")
    try:
        ax = nv.draw(space.sample(seed=0))
        assert ax is plt.gca()
        assert tuple(ax.figure.get_size_inches()) == pytest.approx(default_figsize(space.sample(seed=0)))
        _, ax2 = plt.subplots()
        assert nv.draw(space.sample(seed=0)) is ax2
    finally:
        plt.close("all")


def _overlaps(boxes):
    return [(a, b) for (a, ba), (b, bb) in itertools.combinations(boxes.items(), 2) if ba.overlaps(bb)]


@pytest.mark.parametrize("text", [
    EXAMPLE,
    WITH_NONE,
    "|avg_pool_3x3~0|+|nor_conv_1x1~0|nor_conv_1x1~1|+|nor_conv_1x1~0|nor_conv_1x1~1|nor_conv_1x1~2|",
])
def test_cell_labels_do_not_overlap(space, text):
    arch = space.from_string(text)
    fig = Figure(figsize=default_figsize(arch))
    ax = fig.add_subplot()
    nv.draw(arch, ax=ax)
    renderer = fig.canvas.get_renderer()
    labels = {k: t.get_window_extent(renderer) for k, t in _edge_labels(ax).items()}
    assert len(labels) == 6
    assert _overlaps(labels) == []
    nodes = {_gid(p): p.get_window_extent(renderer) for p in ax.patches if _gid(p).startswith("node ")}
    assert len(nodes) == 4
    for key, box in labels.items():
        for node, nbox in nodes.items():
            assert not box.overlaps(nbox), (key, node)
    # everything lies inside the figure
    figbox = fig.bbox
    for box in list(labels.values()) + list(nodes.values()):
        assert figbox.x0 <= box.x0 and box.x1 <= figbox.x1 and figbox.y0 <= box.y0 and box.y1 <= figbox.y1


def test_callable_module_name_clash(space, ax):
    # ``nasviz.draw`` is both a module and a function: whichever the package attribute is, it draws
    module = importlib.import_module("nasviz.drawing").draw
    assert module(space.sample(seed=0), ax=ax) is ax
    assert nv.draw(space.sample(seed=1), ax=ax) is ax


def test_repr_png(space):
    png = space.from_string(EXAMPLE)._repr_png_()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    png = nv.MacroSpace().sample(seed=0)._repr_png_()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"


# -- layer chains -----------------------------------------------------------------------

def test_macro_layout_of_a_chain_graph():
    fake = FakeChain([("conv", 16, 1), ("max_pool", None, 2), ("conv", 32, 2)])
    boxes, arrows = macro_layout(fake)
    assert [(b.node, b.kind, b.op) for b in boxes] == [
        (0, "input", None), (1, "layer", "conv"), (2, "layer", "max_pool"), (3, "layer", "conv"), (4, "head", None)]
    xs = [b.x for b in boxes]
    assert xs == sorted(xs) and len(set(xs)) == 5 and len({b.y for b in boxes}) == 1
    assert len({(b.width, b.height) for b in boxes}) == 1
    assert [(a.source, a.target, a.text) for a in arrows] == [
        (0, 1, "1x8x8"), (1, 2, "16x8x8"), (2, 3, "16x4x4"), (3, 4, "32x2x2")]
    # arrows run from box edge to box edge
    for a in arrows:
        src, dst = boxes[a.source], boxes[a.target]
        assert a.points[0] == (src.x + src.width / 2, src.y) and a.points[-1] == (dst.x - dst.width / 2, dst.y)


def test_macro_layout_wraps_rows():
    fake = FakeChain([("conv", 8, 1)] * 6)
    boxes, arrows = macro_layout(fake, per_row=3)
    rows = sorted({b.y for b in boxes}, reverse=True)
    assert len(rows) == 3 and [sum(b.y == r for b in boxes) for r in rows] == [3, 3, 2]
    wrapped = [a for a in arrows if len(a.points) == 4]
    assert [(a.source, a.target) for a in wrapped] == [(2, 3), (5, 6)]


def test_draw_chain_graph(ax):
    fake = FakeChain([("conv", 16, 1), ("max_pool", None, 2)])
    assert nv.draw(fake, ax=ax) is ax
    assert len([p for p in ax.patches if _gid(p).startswith("box ")]) == 4
    assert len([p for p in ax.patches if _gid(p).startswith("arrow ")]) == 3
    shapes = sorted(t.get_text() for t in ax.texts if _gid(t).startswith("shape "))
    assert shapes == sorted(["1x8x8", "16x8x8", "16x4x4"])
    assert _legend_texts(ax) == ["conv", "max_pool"]


def test_draw_macro_architecture(ax):
    space = nv.MacroSpace()
    arch = space.from_string("conv(16,k3,s1,relu,d0.0) > sep_conv(32,k5,s2,gelu,d0.2) > max_pool(k3,s2)")
    nv.draw(arch, ax=ax)
    titles = [t.get_text() for t in ax.texts if _gid(t).startswith("box title ")]
    assert titles == ["input", "conv 16", "sep_conv 32", "max_pool", "avg pool"]
    shapes = [t.get_text() for t in ax.texts if _gid(t).startswith("shape ")]
    assert shapes == ["x".join(map(str, s)) for s in arch.shapes]
    assert _legend_texts(ax) == ["conv", "sep_conv", "max_pool"]


def test_macro_labels_do_not_overlap():
    arch = nv.MacroSpace().from_string("conv(16,k3,s1,relu,d0.2) > sep_conv(32,k5,s2,gelu,d0.2) > identity")
    fig = Figure(figsize=default_figsize(arch))
    ax = fig.add_subplot()
    nv.draw(arch, ax=ax)
    r = fig.canvas.get_renderer()
    texts = {_gid(t): t.get_window_extent(r) for t in ax.texts if _gid(t).startswith(("box", "shape"))}
    boxes = {_gid(p): p.get_window_extent(r) for p in ax.patches if _gid(p).startswith("box ")}
    shapes = {k: v for k, v in texts.items() if k.startswith("shape")}
    assert len(shapes) == 4 and _overlaps(shapes) == []
    for k, v in shapes.items():
        assert not any(v.overlaps(b) for b in boxes.values()), k
    for node in range(5):  # each box's text stays inside its box
        box = boxes[f"box {node}"]
        for k in (f"box title {node}", f"box text {node}"):
            if k in texts:
                t = texts[k]
                assert box.x0 <= t.x0 and t.x1 <= box.x1 and box.y0 <= t.y0 and t.y1 <= box.y1, k


def test_draw_rejects_undrawable(ax):
    class NoOps:
        def to_networkx(self):
            g = nx.DiGraph()
            g.add_edge(0, 1)
            return g

    with pytest.raises(InvalidArchitectureError, match="neither"):
        nv.draw(NoOps(), ax=ax)
    with pytest.raises(InvalidArchitectureError, match="expected a nasviz Architecture"):
        nv.draw(EXAMPLE, ax=ax)


# -- networks ---------------------------------------------------------------------------

@pytest.mark.parametrize("channels,cells,shape", [(8, 1, (1, 8, 8)), (4, 2, (3, 16, 12))])
def test_network_blocks_match_the_built_model(space, channels, cells, shape):
    import torch

    torch.manual_seed(0)
    model = space.build(space.from_string(EXAMPLE), num_classes=7, in_channels=shape[0], channels=channels,
                        cells_per_stage=cells).eval()
    blocks = network_blocks(channels=channels, cells_per_stage=cells, input_shape=shape, num_classes=7)
    modules = [("stem", model.stem)]
    for m in model.cells:
        modules.append(("cell" if type(m).__name__ == "Cell" else "reduction", m))
    modules += [("pool", model.pool), ("classifier", model.classifier)]
    seen = []
    hooks = [m.register_forward_hook(lambda mod, inp, out, kind=kind: seen.append((kind, tuple(out.shape[1:]))))
             for kind, m in modules]
    with torch.no_grad():
        model(torch.zeros(2, *shape))
    for h in hooks:
        h.remove()
    assert blocks[0] == ("input", 0, shape, "input")
    assert [(b.kind, b.shape) for b in blocks[1:]] == seen
    assert [b.stage for b in blocks if b.kind == "cell"] == [1] * cells + [2] * cells + [3] * cells


def test_network_blocks_match_the_model_at_any_size(space):
    import torch

    model = space.build(space.from_string(EXAMPLE), channels=2).eval()
    for h, w in [(n, n) for n in range(1, 14)] + [(8, 6), (8, 5), (12, 3)]:
        with torch.no_grad():  # odd sizes run too: reductions round up
            out = model.cells(model.stem(torch.zeros(1, 1, h, w)))
        assert network_blocks(channels=2, input_shape=(1, h, w))[-3].shape == tuple(out.shape[1:])
    with pytest.raises(ShapeError, match="input_shape"):
        network_blocks(input_shape=(8, 8))


def test_draw_network(space):
    arch = space.from_string(EXAMPLE)
    fig = Figure(figsize=network_figsize(space, arch))
    ax = fig.add_axes((0, 0, 1, 1))
    assert nv.draw_network(space, arch, ax=ax) is ax
    blocks = network_blocks()
    assert len([p for p in ax.patches if _gid(p).startswith("block ") and _gid(p)[6:].isdigit()]) == len(blocks)
    captions = [t.get_text() for t in ax.texts if _gid(t) == "block caption"]
    assert captions[:3] == ["1 ch\n8x8", "16 ch\n8x8", "16 ch\n8x8"] and captions[-1] == "10 classes"
    assert captions[3] == "32 ch\n4x4"
    assert len(_edge_patches(ax)) == 6          # the expanded cell
    assert len([line for line in ax.lines if _gid(line) == "guide"]) == 2
    # nothing in the block row overlaps
    r = fig.canvas.get_renderer()
    row = {f"{_gid(t)} {i}": t.get_window_extent(r) for i, t in enumerate(ax.texts)
           if _gid(t) in ("block title", "block caption")}
    assert _overlaps(row) == []
    labels = {k: t.get_window_extent(r) for k, t in _edge_labels(ax).items()}
    assert _overlaps(labels) == []


def test_draw_network_groups_many_cells(space):
    plt.close("all")
    try:
        ax = nv.draw_network(space, space.sample(seed=2), cells_per_stage=5, input_shape=(3, 32, 32))
        titles = [t.get_text() for t in ax.texts if _gid(t) == "block title"]
        assert titles.count("5 \u00d7 cell") == 3 and "cell" not in titles
        assert tuple(ax.figure.get_size_inches()) == pytest.approx(
            network_figsize(space, space.sample(seed=2), cells_per_stage=5, input_shape=(3, 32, 32)))
    finally:
        plt.close("all")


def test_draw_network_checks_its_arguments(space, ax):
    with pytest.raises(NasvizError, match="cells_per_stage"):
        nv.draw_network(space, space.sample(seed=0), ax=ax, cells_per_stage=0)
    with pytest.raises(NasvizError, match="draw_network draws CellSpace"):
        nv.draw_network(object(), space.sample(seed=0), ax=ax)
    macro = nv.MacroSpace()
    assert nv.draw_network(macro, macro.sample(seed=0), ax=ax) is ax  # a chain's network is the chain


# -- diffs ------------------------------------------------------------------------------

def test_diff_edges_and_draw_diff_highlight_exactly_the_changes(space, ax):
    a = space.from_string(EXAMPLE)
    b = space.from_decisions(("nor_conv_1x1",) + a.ops[1:5] + ("none",))
    assert diff_edges(a, b) == [(0, 1, "nor_conv_3x3", "nor_conv_1x1"), (2, 3, "skip_connect", "none")]
    assert diff_edges(a, a) == []
    for n in range(5):
        m = space.mutate(a, seed=n)
        assert len(diff_edges(a, m)) == 1
    assert nv.draw_diff(a, b, ax=ax) is ax
    assert ax.get_title() == "2 edges changed"
    patches = _edge_patches(ax)
    thick = {k for k, p in patches.items() if p.get_linewidth() > 3}
    assert thick == {"0->1", "2->3"}
    assert all(patches[k].get_alpha() < 0.5 for k in patches if k not in thick)
    labels = {k: t.get_text() for k, t in _edge_labels(ax).items()}
    assert labels["0->1"] == "nor_conv_3x3 \u2192\nnor_conv_1x1"
    assert labels["2->3"] == "skip_connect \u2192\nnone"
    assert labels["1->2"] == "avg_pool_3x3"


def test_draw_diff_of_macro_architectures(ax):
    s = nv.MacroSpace()
    a = s.from_string("conv(16,k3,s1,relu,d0.0) > max_pool(k3,s2) > identity")
    b = s.from_string("conv(16,k5,s1,gelu,d0.0) > avg_pool(k3,s2)")
    changed, removed = macro_diff(a, b)
    assert changed == [(1, (("kernel", 3, 5), ("activation", "relu", "gelu"))),
                       (2, (("op", "max_pool", "avg_pool"),))]
    assert removed == [3]
    nv.draw_diff(a, b, ax=ax)
    assert ax.get_title() == "2 layers changed, 1 removed"
    notes = {_gid(t): t.get_text() for t in ax.texts if _gid(t).startswith("note ")}
    assert notes == {"note 1": "kernel 3 \u2192 5\nactivation relu \u2192 gelu", "note 2": "max_pool \u2192 avg_pool"}
    bold = {_gid(p) for p in ax.patches if _gid(p).startswith("box ") and p.get_linewidth() >= 3}
    assert bold == {"box 1", "box 2"}


def test_draw_diff_rejects_mixed_kinds(space, ax):
    with pytest.raises(InvalidArchitectureError, match="same kind"):
        nv.draw_diff(space.sample(seed=0), nv.MacroSpace().sample(seed=0), ax=ax)
    with pytest.raises(InvalidArchitectureError, match="different edges"):
        diff_edges(space.sample(seed=0), nv.CellSpace(nodes=5).sample(seed=0))


def test_macro_diff_compares_the_fully_connected_head():
    s = nv.MacroSpace(max_layers=2, max_fc_layers=2, fc_units=(16, 32))
    base = s.from_string("conv(16,k3,s1,relu,d0.0) | fc(16) > fc(32)")
    changed, removed = nv.drawing.macro_diff(base, s.from_string("conv(16,k3,s1,relu,d0.0) | fc(32)"))
    assert [c for _, c in changed] == [(("units", 16, 32),)] and len(removed) == 1
    ax = nv.draw_diff(base, s.from_string("conv(16,k3,s1,relu,d0.0)"))
    assert ax.get_title() == "0 layers changed, 2 removed"
    plt.close(ax.figure)
