"""Drawing whole networks: :func:`draw_network` (a CellSpace network with its cell expanded).

The blocks come from the space itself (:meth:`CellSpace.blocks
<nasviz.spaces.CellSpace.blocks>`, the description :meth:`~nasviz.spaces.CellSpace.build`
builds from); :func:`network_blocks` turns them into the boxes the drawing shows, and
:func:`network_figsize` gives the figure they fill.

Examples
--------
>>> from nasviz.drawing import network_blocks
>>> [b.kind for b in network_blocks()][:4]
['input', 'stem', 'cell', 'reduction']
"""

from __future__ import annotations

from typing import NamedTuple

from ..errors import InvalidArgumentError, ShapeError, check_positive_int
from ..spaces.base import Space
from ..spaces.cell import CellSpace
from ..validation import check_bool
from ._axes import add_legend, check_ax, pt_per_unit
from .cells import draw, draw_cell_into
from .layout import arch_kind, cell_edges, cell_extent, cell_layout
from .styles import BLUE, ORANGE, clamp, label_fontsize, tint

__all__ = ["NetworkBlock", "draw_network", "network_blocks", "network_figsize"]


class NetworkBlock(NamedTuple):
    """One box of a :class:`~nasviz.spaces.CellSpace` network drawing (see :func:`network_blocks`)."""

    kind: str                 # "input", "stem", "cell", "reduction", "pool" or "classifier"
    stage: int                # 1..3 for cells and the reduction opening a stage, else 0
    shape: tuple[int, ...]    # the block's output: (C, H, W), or (num_classes,)
    text: str                 # what the box says


_TEXT = {"input": "input", "stem": "stem\nconv 3x3", "cell": "cell", "reduction": "reduction\nstride 2",
         "pool": "BN-ReLU\navg pool", "classifier": "linear"}


def _check_shape(input_shape) -> tuple[int, int, int]:
    try:
        items = tuple(input_shape)
    except TypeError:
        items = ()
    if len(items) != 3 or not all(isinstance(d, int) and not isinstance(d, bool) and d > 0 for d in items):
        raise ShapeError(f"input_shape must be (channels, height, width) of positive ints, e.g. (1, 8, 8); "
                         f"got {input_shape!r}")
    return items


def _blocks(space, channels, cells_per_stage, input_shape, num_classes) -> list[NetworkBlock]:
    """The boxes for ``space.blocks(...)``: the input, then each block; the head as two
    boxes (BN-ReLU + pooling, and the linear classifier)."""
    channels = check_positive_int("channels", channels)
    cells_per_stage = check_positive_int("cells_per_stage", cells_per_stage)
    num_classes = check_positive_int("num_classes", num_classes)
    c_in, h, w = _check_shape(input_shape)
    skeleton = space.blocks(num_classes, c_in, channels=channels, cells_per_stage=cells_per_stage,
                            input_size=(h, w))
    out = [NetworkBlock("input", 0, skeleton[0].in_shape, _TEXT["input"])]
    for b in skeleton:
        if b.kind == "head":
            out.append(NetworkBlock("pool", 0, (b.in_shape[0], 1, 1), _TEXT["pool"]))
            out.append(NetworkBlock("classifier", 0, b.out_shape, _TEXT["classifier"]))
        else:
            out.append(NetworkBlock(b.kind, b.stage, b.out_shape, _TEXT[b.kind]))
    return out


def network_blocks(*, channels: int = 16, cells_per_stage: int = 1, input_shape=(1, 8, 8),
                   num_classes: int = 10) -> list[NetworkBlock]:
    """The blocks of ``CellSpace.build``'s network, in order, with their output shapes.

    input -> stem (3x3 conv + BN, ``channels``) -> ``cells_per_stage`` cells ->
    reduction (residual block, stride 2, channels x 2) -> cells -> reduction -> cells ->
    BN-ReLU + global average pooling -> linear, as :meth:`CellSpace.blocks
    <nasviz.spaces.CellSpace.blocks>` describes them. A reduction halves the feature map,
    rounding up (odd sizes work: the shortcut pools with ``ceil_mode``).

    Examples
    --------
    >>> [(b.kind, b.shape) for b in network_blocks(channels=8, input_shape=(1, 8, 8))]
    ... # doctest: +NORMALIZE_WHITESPACE
    [('input', (1, 8, 8)), ('stem', (8, 8, 8)), ('cell', (8, 8, 8)), ('reduction', (16, 4, 4)),
     ('cell', (16, 4, 4)), ('reduction', (32, 2, 2)), ('cell', (32, 2, 2)), ('pool', (32, 1, 1)),
     ('classifier', (10,))]
    """
    return _blocks(CellSpace(), channels, cells_per_stage, input_shape, num_classes)


def _not_a_cell_space(space):
    raise InvalidArgumentError(
        f"draw_network draws CellSpace networks (or a layer chain's own chain); got {type(space).__name__}"
    )


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
    chain space the network is the chain itself: this is :func:`~nasviz.drawing.draw`.

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
    if not isinstance(space, CellSpace):
        if isinstance(space, Space) and arch_kind(arch) == "chain":
            return draw(space.validate(arch), ax=ax, colors=colors)
        _not_a_cell_space(space)
    arch = space.validate(arch)
    check_ax(ax)
    show_none = check_bool("show_none", show_none)
    blocks = _blocks(space, channels, cells_per_stage, input_shape, num_classes)
    geometry = _network_geometry(arch, blocks, cells_per_stage, show_none)
    if ax is None:
        import matplotlib.pyplot as plt

        ax = plt.gca() if plt.get_fignums() else _new_network_ax(geometry)
    return _draw_network_axes(ax, arch, geometry, show_none=show_none, colors=colors)


def network_figsize(space, arch, *, channels: int = 16, cells_per_stage: int = 1, input_shape=(1, 8, 8),
                    num_classes: int = 10, show_none: bool = True) -> tuple[float, float]:
    """The figure size (inches) that :func:`draw_network` makes when no figure is open;
    the drawing fills it exactly when drawn on ``fig.add_axes((0, 0, 1, 1))``.

    Examples
    --------
    >>> import nasviz as nv
    >>> space = nv.CellSpace()
    >>> network_figsize(space, space.sample(seed=0))
    (11.0, 4.78)
    """
    if not isinstance(space, CellSpace):
        _not_a_cell_space(space)
    arch = space.validate(arch)
    blocks = _blocks(space, channels, cells_per_stage, input_shape, num_classes)
    return _network_figsize(_network_geometry(arch, blocks, cells_per_stage, show_none))


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
    ex0, ex1, ey0, ey1 = cell_extent(pos, edges)
    scale = clamp(0.5 * (right - left) / (ex1 - ex0), 1.4, 2.0)
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


def _block_colors(kind) -> tuple:
    """``(face, edge)`` colours of a block box."""
    if kind == "cell":
        return tint(BLUE, 0.8), BLUE
    if kind == "reduction":
        return tint(ORANGE, 0.75), "#9A6A00"
    return ("#E6E6E6" if kind == "input" else "#F2F2F2"), "#444444"


def _draw_block_row(ax, items, xs, fs) -> float:
    """The row of block boxes with titles, captions and arrows; returns the first cell box's x."""
    from matplotlib.patches import FancyArrowPatch, FancyBboxPatch

    first_cell = None
    for k, (kind, title, caption, _) in enumerate(items):
        x = xs[k]
        face, edge = _block_colors(kind)
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
    return first_cell


def _draw_network_axes(ax, arch, geometry, *, show_none, colors):
    from matplotlib.patches import FancyBboxPatch

    geo = geometry
    ax.set_xlim(*geo["xlim"])
    ax.set_ylim(*geo["ylim"])
    ax.set_aspect("equal")
    ax.set_axis_off()
    ppu = pt_per_unit(ax)
    fs = clamp(_NB_W * ppu / (0.6 * 10 + 1.5), 5.0, 9.0)
    first_cell = _draw_block_row(ax, geo["items"], geo["xs"], fs)
    # the first cell block (and its caption) framed, guide lines to the expanded cell below
    guide = {"color": BLUE, "lw": 1.0, "ls": (0, (4, 3))}
    bx0, bx1 = first_cell - _NB_W / 2 - 0.07, first_cell + _NB_W / 2 + 0.07
    by0, by1 = geo["caption_bottom"] - 0.04, _NB_H / 2 + 0.07
    ax.add_patch(FancyBboxPatch((bx0, by0), bx1 - bx0, by1 - by0, boxstyle="round,pad=0,rounding_size=0.1",
                                facecolor="none", edgecolor=BLUE, linewidth=1.0, linestyle=guide["ls"], zorder=0,
                                gid="block frame"))
    fx, fy, fw, fh = geo["frame"]
    ax.plot([bx0, fx], [by0, fy + fh], zorder=0, gid="guide", **guide)
    ax.plot([bx1, fx + fw], [by0, fy + fh], zorder=0, gid="guide", **guide)
    ax.add_patch(FancyBboxPatch((fx, fy), fw, fh, boxstyle="round,pad=0,rounding_size=0.12", facecolor="white",
                                edgecolor=BLUE, linewidth=1.0, linestyle=guide["ls"], zorder=0, gid="cell frame"))
    scale = geo["scale"]
    fs_cell = label_fontsize(ppu * scale, [e.op for e in cell_edges(arch, show_none=show_none)])
    handles = draw_cell_into(ax, arch, origin=geo["origin"], scale=scale, show_none=show_none, labels=True,
                             colors=colors, fontsize=fs_cell)
    ax.text(fx + 0.12, fy + fh - 0.1, "cell (the same in every stage)", ha="left", va="top", fontsize=fs - 0.5,
            color="#333333", fontstyle="italic", gid="cell caption")
    add_legend(ax, handles, fs_cell + 0.5, bbox_to_anchor=(fx + fw / 2, fy - 0.05), bbox_transform=ax.transData)
    return ax
