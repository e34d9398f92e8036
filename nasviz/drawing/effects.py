"""Drawing decision effects: one row per single-setting change, its effect and interval.

:func:`effect_rows` turns the table of :func:`nasviz.bench.decision_effects` into
plain data (labels, values, whether the interval excludes zero); :func:`draw_effects`
draws it: a point per change with its interval as whiskers, a zero line, the first
change on top.
"""

from __future__ import annotations

import math
from typing import NamedTuple

from ..errors import InvalidArgumentError
from ._axes import get_ax
from .styles import BLUE, GREY, VERMILLION

__all__ = ["EffectRow", "draw_effects", "effect_rows"]

_NEEDED = ("decision", "from", "to", "effect", "low", "high")
#: Colour of a change whose interval lies above zero, below zero, or holds zero.
SIGN_COLORS = {"up": BLUE, "down": VERMILLION, "unclear": GREY}
_SIGN_LABELS = {"up": "raises it", "down": "lowers it", "unclear": "interval holds 0"}


class EffectRow(NamedTuple):
    """One change as drawn: its label, effect, interval, number of pairs and sign."""

    label: str
    effect: float
    low: float
    high: float
    pairs: int | None
    sign: str  # "up", "down" or "unclear"


def _text(value) -> str:
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def effect_rows(df) -> list[EffectRow]:
    """The rows of a :func:`~nasviz.bench.decision_effects` table as :func:`draw_effects` draws them.

    ``label`` is ``"decision: from → to"``; ``sign`` is ``"up"`` when the interval lies
    above zero, ``"down"`` below it, ``"unclear"`` when it holds zero (or is missing).

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"decision": ["kernel"], "from": [3], "to": [5], "effect": [0.05], "low": [0.04],
    ...                    "high": [0.06], "pairs": [120]})
    >>> effect_rows(df)
    [EffectRow(label='kernel: 3 → 5', effect=0.05, low=0.04, high=0.06, pairs=120, sign='up')]
    """
    columns = list(getattr(df, "columns", ()))
    missing = [c for c in _NEEDED if c not in columns]
    if missing:
        raise InvalidArgumentError(f"draw_effects needs the table of nv.bench.decision_effects (columns "
                                   f"{', '.join(_NEEDED)}); missing: {', '.join(missing)}")
    out = []
    for rec in df.to_dict("records"):
        effect, low, high = (float(rec[k]) for k in ("effect", "low", "high"))
        sign = "up" if low > 0 else "down" if high < 0 else "unclear"  # NaN compares False: unclear
        pairs = rec.get("pairs")
        out.append(EffectRow(f"{rec['decision']}: {_text(rec['from'])} → {_text(rec['to'])}", effect, low, high,
                             None if pairs is None else int(pairs), sign))
    return out


def draw_effects(df, ax=None, *, pairs: bool = True, legend: bool = True):
    """Draw the effects of :func:`nasviz.bench.decision_effects`: a point per change, its interval as
    whiskers, a dashed zero line; the first change on top.

    Parameters
    ----------
    df : pandas.DataFrame
        The table of ``decision_effects`` (columns ``decision``, ``from``, ``to``,
        ``effect``, ``low``, ``high``, and optionally ``pairs``).
    ax : matplotlib Axes, optional
        Where to draw (default ``plt.gca()``; with no figure open, a new one sized to
        the rows).
    pairs : bool
        Write each change's number of matched pairs at the right.
    legend : bool
        Say what the colours mean: interval above zero (blue), below (vermillion),
        holding zero (grey).

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import matplotlib.pyplot as plt, pandas as pd, nasviz as nv
    >>> df = pd.DataFrame({"decision": ["kernel", "activation"], "from": [3, "relu"], "to": [5, "tanh"],
    ...                    "effect": [0.05, -0.004], "low": [0.04, -0.01], "high": [0.06, 0.002],
    ...                    "pairs": [120, 80]})
    >>> fig, ax = plt.subplots()
    >>> nv.draw_effects(df, ax=ax) is ax
    True
    >>> [t.get_text() for t in ax.get_yticklabels()]
    ['kernel: 3 → 5', 'activation: relu → tanh']
    >>> plt.close(fig)
    """
    rows = effect_rows(df)
    if not rows:
        raise InvalidArgumentError("draw_effects got a table with no rows; nv.bench.decision_effects gives one row "
                                   "per change the space offers")
    ax = get_ax(ax, figsize=(7.0, 1.3 + 0.42 * len(rows)))
    ys = list(range(len(rows)))
    drawn = set()
    for y, r in zip(ys, rows):
        color = SIGN_COLORS[r.sign]
        if math.isfinite(r.low) and math.isfinite(r.high):
            ax.plot([r.low, r.high], [y, y], color=color, linewidth=2.2, solid_capstyle="butt", zorder=2)
            ax.plot([r.low, r.low], [y - 0.18, y + 0.18], color=color, linewidth=1.4, zorder=2)
            ax.plot([r.high, r.high], [y - 0.18, y + 0.18], color=color, linewidth=1.4, zorder=2)
        if math.isfinite(r.effect):
            ax.plot([r.effect], [y], "o", color=color, markersize=6.5, zorder=3,
                    label=None if r.sign in drawn else _SIGN_LABELS[r.sign])
            drawn.add(r.sign)
    ax.axvline(0.0, color="#404040", linewidth=1.0, linestyle=(0, (4, 3)), zorder=1)
    ax.set_yticks(ys)
    ax.set_yticklabels([r.label for r in rows], fontsize=10)
    ax.set_ylim(len(rows) - 0.5, -0.5)  # the first row on top
    finite = [v for r in rows for v in (r.low, r.high, r.effect) if math.isfinite(v)] + [0.0]
    lo, hi = min(finite), max(finite)
    pad = 0.08 * (hi - lo) if hi > lo else 0.01
    ax.set_xlim(lo - pad, hi + pad * (3.5 if pairs else 1))
    if pairs:
        for y, r in zip(ys, rows):
            if r.pairs is not None:
                ax.annotate(f"{r.pairs:,} pairs", (1.0, y), xycoords=("axes fraction", "data"), xytext=(-4, 0),
                            textcoords="offset points", ha="right", va="center", fontsize=8, color=GREY)
    attrs = getattr(df, "attrs", {}) or {}
    metric = attrs.get("metric")
    confidence = attrs.get("confidence")
    what = f"change in {metric}" if metric else "effect"
    band = f", {confidence:.0%} interval" if confidence else ", interval"
    ax.set_xlabel(f"{what} (changed − base, mean over matched pairs{band})", fontsize=10)
    ax.grid(axis="x", color="#E6E6E6", linewidth=0.8, zorder=0)
    ax.set_axisbelow(True)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    if legend and drawn:
        order = {label: k for k, label in enumerate(_SIGN_LABELS.values())}
        handles, labels = ax.get_legend_handles_labels()
        pairs_ = sorted(zip(handles, labels), key=lambda hl: order.get(hl[1], len(order)))
        ax.legend([h for h, _ in pairs_], [lab for _, lab in pairs_], loc="lower center", bbox_to_anchor=(0.5, 1.0),
                  ncol=3, fontsize=8.5, frameon=False, handletextpad=0.3, columnspacing=1.4)
    return ax
