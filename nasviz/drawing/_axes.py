"""Axes helpers shared by the drawing modules: which Axes to draw on, its scale, the legend."""

from __future__ import annotations

from ..errors import InvalidArgumentError


def check_ax(ax):
    """``ax`` if it is ``None`` or a matplotlib Axes; else raise."""
    if ax is not None and not (callable(getattr(ax, "add_patch", None)) and hasattr(ax, "figure")):
        raise InvalidArgumentError(f"ax must be a matplotlib Axes (e.g. plt.subplots()[1]) or None, got {ax!r}")
    return ax


def get_ax(ax, figsize=None):
    """``ax``, else ``plt.gca()``; with no figure open, a new one of ``figsize``."""
    check_ax(ax)
    if ax is None:
        import matplotlib.pyplot as plt

        if figsize is not None and not plt.get_fignums():
            plt.figure(figsize=figsize)
        ax = plt.gca()
    return ax


def pt_per_unit(ax) -> float:
    """Points per data unit of an equal-aspect Axes whose limits are set."""
    fig = ax.figure
    box = ax.get_position(original=True)
    w_in = box.width * fig.get_figwidth()
    h_in = box.height * fig.get_figheight()
    x0, x1 = ax.get_xlim()
    y0, y1 = ax.get_ylim()
    return 72.0 * min(w_in / abs(x1 - x0), h_in / abs(y1 - y0))


def add_legend(ax, handles, fontsize, ncol=3, **kwargs):
    """A frameless legend of ``handles`` (under the drawing unless placed); ``None`` without handles."""
    if not handles:
        return None
    kwargs.setdefault("loc", "upper center")
    kwargs.setdefault("bbox_to_anchor", (0.5, 0.0))
    return ax.legend(handles=handles, ncol=min(len(handles), ncol), frameon=False, fontsize=fontsize,
                     handlelength=3.6, columnspacing=1.6, **kwargs)
