"""Drawing layer chains: a left-to-right chain of boxes, one per layer, with each
layer's settings in its box and the tensor shape on each arrow.

A chain's head is drawn as boxes too: one ``avg pool / linear`` box, or, when the
architecture has hidden fully connected layers, an ``avg pool`` box, one ``fc <units>``
box per hidden layer (its own colour, ``fc`` in the legend) and a ``linear`` box.

The positions come from :func:`~nasviz.drawing.layout.macro_layout`; :func:`draw_chain`
draws them on an Axes. :func:`nasviz.draw` calls it for any architecture whose graph
nodes carry ``kind`` (such as :class:`~nasviz.spaces.MacroArchitecture`).

Examples
--------
>>> import matplotlib
>>> matplotlib.use("Agg")
>>> import matplotlib.pyplot as plt
>>> import nasviz as nv
>>> from nasviz.drawing.chains import draw_chain
>>> fig, ax = plt.subplots()
>>> ax = draw_chain(nv.MacroSpace().sample(seed=0), ax)
>>> ax.texts[0].get_text()
'input'
>>> space = nv.MacroSpace(max_fc_layers=2)
>>> ax = draw_chain(space.from_string("conv(16,k3,s2,relu,d0.0) | fc(64) > fc(32)"), ax)
>>> [t.get_text() for t in ax.texts if t.get_gid().startswith("box title")][-4:]
['avg pool', 'fc 64', 'fc 32', 'linear 10']
>>> plt.close(fig)
"""

from __future__ import annotations

from ._axes import add_legend, pt_per_unit
from .layout import LINE_H, macro_extent, macro_layout
from .styles import ORANGE, SOLID, clamp, op_order, op_styles, tint

__all__ = ["draw_chain"]

#: The style of hidden fully connected layers (op ``"fc"``), the same in every drawing.
FC_STYLE = (ORANGE, SOLID)
# box kinds whose settings ``labels=False`` hides (the first line, the op, stays)
_SETTING_KINDS = ("layer", "fc")


def _draw_boxes(ax, boxes, styles, *, fontsize, labels, highlight, notes):
    for b in boxes:
        hot = highlight is not None and b.node in highlight
        faded = highlight is not None and not hot
        if b.op:
            color, style = styles[b.op]
            face, edge = tint(color), color
        else:
            face, edge, style = "#E6E6E6", "#444444", SOLID
        ax.add_patch(_box_patch(b, face, "#000000" if hot else edge, SOLID if hot else style,
                                linewidth=3.0 if hot else 1.6, alpha=0.35 if faded else 1.0))
        lines = b.text.split("\n") if labels or b.kind not in _SETTING_KINDS else b.text.split("\n")[:1]
        top = b.y + (len(lines) - 1) * LINE_H / 2 * fontsize / 8
        alpha = 0.4 if faded else 1.0
        ax.text(b.x, top, lines[0], ha="center", va="center", fontsize=fontsize, fontweight="bold",
                alpha=alpha, zorder=3, gid=f"box title {b.node}")
        if len(lines) > 1:
            ax.text(b.x, top - LINE_H * fontsize / 8 / 2, "\n".join(lines[1:]), ha="center", va="top",
                    fontsize=fontsize, linespacing=1.15, alpha=alpha, zorder=3, gid=f"box text {b.node}")
        if notes and b.node in notes:
            ax.text(b.x, b.y - b.height / 2 - 0.08, notes[b.node], ha="center", va="top", fontsize=fontsize,
                    fontweight="bold", color="#000000", zorder=4, gid=f"note {b.node}",
                    bbox={"boxstyle": "round,pad=0.25", "facecolor": "#FFF3C4", "edgecolor": "#000000",
                          "linewidth": 0.8})


def _box_patch(b, face, edge, style, *, linewidth, alpha):
    from matplotlib.patches import FancyBboxPatch

    return FancyBboxPatch((b.x - b.width / 2, b.y - b.height / 2), b.width, b.height,
                          boxstyle="round,pad=0,rounding_size=0.08", facecolor=face, edgecolor=edge, linestyle=style,
                          linewidth=linewidth, alpha=alpha, zorder=2, gid=f"box {b.node}")


def _draw_arrows(ax, arrows, *, fontsize):
    from matplotlib.patches import FancyArrowPatch
    from matplotlib.path import Path

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


def draw_chain(arch, ax, *, labels=True, legend=True, colors=None, highlight=None, notes=None, per_row=6):
    """Draw a layer chain filling ``ax`` (equal aspect, no axis lines); return ``ax``.

    ``highlight``: nodes drawn bold (the others faded) when not ``None``; ``notes``:
    ``{node: text}`` written under the box; ``legend``: a legend of the ops under the
    chain. Arguments are not checked here: :func:`~nasviz.drawing.draw` checks them.
    """
    from matplotlib.patches import Patch

    boxes, arrows = macro_layout(arch, per_row=per_row)
    x0, x1, y0, y1 = macro_extent(boxes)
    if notes:
        y0 -= 0.45
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    ax.set_aspect("equal")
    ax.set_axis_off()
    fontsize = clamp(8.0 * pt_per_unit(ax) / 72.0, 4.0, 10.0)
    styles = op_styles([b.op for b in boxes if b.op], colors)
    if "fc" in styles:  # not one of the space's ops, yet one colour wherever it is drawn
        styles["fc"] = ((colors or {}).get("fc", FC_STYLE[0]), FC_STYLE[1])
    _draw_boxes(ax, boxes, styles, fontsize=fontsize, labels=labels, highlight=highlight, notes=notes)
    _draw_arrows(ax, arrows, fontsize=fontsize)
    if legend:
        handles = [Patch(facecolor=tint(styles[op][0]), edgecolor=styles[op][0], linestyle=styles[op][1],
                         linewidth=1.6, label=op) for op in op_order(styles)]
        add_legend(ax, handles, fontsize, ncol=5)
    return ax
