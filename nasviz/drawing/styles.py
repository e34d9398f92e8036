"""How ops look: a colour and a dash pattern per op, line weights and label fonts.

Colours are Okabe & Ito's (2008), safe for the common colour-vision deficiencies; every
op also gets its own dash pattern, so the ops stay apart in greyscale print. The ops of
the built-in spaces (NAS-Bench-201's cell ops and the layer-chain ops) always look the
same; other ops get the unused styles in sorted order.

Examples
--------
>>> from nasviz.drawing.styles import op_styles
>>> op_styles(["nor_conv_3x3", "none"])
{'none': ('#8C8C8C', (0, (1, 2))), 'nor_conv_3x3': ('#0072B2', 'solid')}
"""

from __future__ import annotations

from collections.abc import Sequence

from ..errors import InvalidArgumentError
from ..spaces.cell import NB201_OPS
from ..spaces.macro_layers import MACRO_OPS

__all__ = [
    "BLACK",
    "BLUE",
    "DASHDOT",
    "DASHDOTDOT",
    "DASHED",
    "DOTTED",
    "GREEN",
    "GREY",
    "LONGDASH",
    "ORANGE",
    "PURPLE",
    "SHORTDASH",
    "SKY",
    "SOLID",
    "VERMILLION",
    "edge_font",
    "edge_line",
    "label_fontsize",
    "op_order",
    "op_styles",
    "tint",
]

# Okabe & Ito (2008) colours
BLUE, ORANGE, GREEN, PURPLE = "#0072B2", "#E69F00", "#009E73", "#CC79A7"
VERMILLION, SKY, BLACK, GREY = "#D55E00", "#56B4E9", "#000000", "#8C8C8C"

# dash patterns (matplotlib linestyles)
SOLID = "solid"
DASHED = (0, (4.5, 2))
DASHDOT = (0, (7, 2, 1.5, 2))
DASHDOTDOT = (0, (7, 2, 1.5, 2, 1.5, 2))
LONGDASH = (0, (10, 3))
SHORTDASH = (0, (2.5, 1.5))
DOTTED = (0, (1, 2))

# fixed styles for the ops of the built-in spaces: the same op looks the same everywhere
_FIXED_STYLES = {
    # NAS-Bench-201 cell ops
    "none": (GREY, DOTTED),
    "skip_connect": (PURPLE, DASHED),
    "nor_conv_1x1": (ORANGE, DASHDOT),
    "nor_conv_3x3": (BLUE, SOLID),
    "avg_pool_3x3": (GREEN, DASHDOTDOT),
    # layer-chain ops
    "identity": (PURPLE, DASHED),
    "conv": (BLUE, SOLID),
    "sep_conv": (SKY, LONGDASH),
    "max_pool": (VERMILLION, SHORTDASH),
    "avg_pool": (GREEN, DASHDOTDOT),
}
# styles handed out, in order, to ops without a fixed style
_POOL = [
    (VERMILLION, SHORTDASH), (SKY, LONGDASH), (BLACK, SOLID), (BLUE, DASHDOT),
    (ORANGE, SOLID), (GREEN, DASHED), (PURPLE, SOLID), (BLACK, DASHDOTDOT),
]


def op_order(ops) -> list[str]:
    """``ops`` in legend order: the built-in spaces' ops as their spaces list them, then the others sorted.

    Examples
    --------
    >>> op_order(["my_op", "nor_conv_3x3", "none"])
    ['none', 'nor_conv_3x3', 'my_op']
    """
    known = NB201_OPS + MACRO_OPS
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
    ordered = op_order(ops)
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


def tint(color: str, amount: float = 0.78) -> tuple[float, float, float]:
    """``color`` mixed with white (``amount`` of white), as an RGB tuple.

    Examples
    --------
    >>> tint("#000000", 0.5)
    (0.5, 0.5, 0.5)
    """
    from matplotlib.colors import to_rgb

    r, g, b = to_rgb(color)
    return (r + (1 - r) * amount, g + (1 - g) * amount, b + (1 - b) * amount)


def edge_line(op: str, *, hot: bool = False, faded: bool = False) -> tuple[float, float]:
    """``(linewidth, alpha)`` of a cell edge: ``none`` edges thin and faint, highlighted
    (``hot``) edges thick, the others faded when something is highlighted.

    Examples
    --------
    >>> edge_line("nor_conv_3x3"), edge_line("none"), edge_line("none", hot=True)
    ((2.0, 1.0), (1.2, 0.75), (3.6, 1.0))
    """
    lw, alpha = (1.2, 0.75) if op == "none" else (2.0, 1.0)
    if hot:
        return 3.6, 1.0
    if faded:
        alpha *= 0.3
    return lw, alpha


def edge_font(op: str, *, hot: bool = False, faded: bool = False) -> dict:
    """The text properties of a cell edge's label: ``none`` in grey italics, a
    highlighted edge's label bold, labels of faded edges faded.

    Examples
    --------
    >>> edge_font("none")
    {'color': '#666666', 'alpha': 1.0, 'fontweight': 'normal', 'fontstyle': 'italic'}
    """
    return {"color": "#222222" if op != "none" or hot else "#666666", "alpha": 0.6 if faded else 1.0,
            "fontweight": "bold" if hot else "normal", "fontstyle": "italic" if op == "none" and not hot else "normal"}


def clamp(v, lo, hi):
    """``v`` limited to ``[lo, hi]``."""
    return max(lo, min(hi, v))


def label_fontsize(ppu: float, labels: Sequence[str], room: float = 0.48) -> float:
    """A font size (points) at which the longest label line fits ``room`` data units,
    given ``ppu`` points per data unit; between 4.5 and 9.

    Examples
    --------
    >>> round(label_fontsize(100.0, ["nor_conv_3x3"]), 2)
    5.85
    """
    chars = max([4] + [len(line) for text in labels for line in text.split("\n")])
    return clamp(room * ppu / (0.6 * chars + 1.0), 4.5, 9.0)
