"""Drawing architectures with matplotlib: cells, layer chains, whole networks and diffs.

In NetworkX's manner, layout and drawing are apart:

- :mod:`~nasviz.drawing.styles`: a colour and a dash pattern per op (colour-blind safe,
  apart in greyscale print), line weights and label fonts;
- :mod:`~nasviz.drawing.layout`: plain-data layouts (:func:`cell_layout`,
  :func:`cell_edges`, :func:`macro_layout`, :func:`diff_edges`, :func:`macro_diff`),
  tested by equality;
- :mod:`~nasviz.drawing.cells`: :func:`draw` (a cell, or a layer chain through
  :mod:`~nasviz.drawing.chains`), :func:`draw_diff` and :func:`default_figsize`;
- :mod:`~nasviz.drawing.network`: :func:`draw_network`, from the blocks that
  :meth:`CellSpace.blocks <nasviz.spaces.CellSpace.blocks>` describes
  (:func:`network_blocks`, :func:`network_figsize`).

Drawing functions take ``ax=None`` (then they draw on ``plt.gca()``) and return the
Axes. matplotlib is imported inside the drawing functions only. Drawing depends on
:mod:`nasviz.spaces` only.

Examples
--------
>>> import matplotlib
>>> matplotlib.use("Agg")
>>> import matplotlib.pyplot as plt
>>> import nasviz as nv
>>> fig, ax = plt.subplots(figsize=nv.drawing.default_figsize(nv.CellSpace().sample(seed=0)))
>>> nv.draw(nv.CellSpace().sample(seed=0), ax=ax) is ax
True
>>> plt.close(fig)
"""

from .cells import default_figsize, draw, draw_diff
from .layout import (
    EdgeGeometry,
    MacroArrow,
    MacroBox,
    cell_edges,
    cell_layout,
    diff_edges,
    macro_diff,
    macro_layout,
)
from .network import NetworkBlock, draw_network, network_blocks, network_figsize
from .styles import op_styles

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
