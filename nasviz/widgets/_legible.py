"""Architecture drawings that stay legible in the small room a widget gives them.

:func:`arch_figure` draws an architecture (or what changed between two) in at most a
given size and picks the first way of drawing it whose every text is at least
:data:`MIN_TEXT_PX` pixels (the font size at the PNG's dpi), whose labels neither
overlap one another nor spill out of their nodes and boxes, and that fits the room:

- cells: the op written on each edge at the size fitted to the drawing; else at the
  smallest legible size, when the labels still do not overlap; else the edges colour-
  and dash-coded with a legend of the ops (``nv.draw(..., labels=False)``; a diff keeps
  the labels of its changed edges), in fewer columns if it is too wide;
- layer chains (whose text scales with the drawing): 6 boxes per row, then fewer (a
  narrower, taller drawing), each grown to the scale that makes its text legible if
  that still fits.

:func:`legibility` measures a figure that way, from the text and patch extents (no
rendering); the tests use it too.
"""

from __future__ import annotations

from ._common import new_figure

__all__ = ["MIN_TEXT_PX", "arch_figure", "legibility"]

#: The smallest text, in pixels of the PNG (font size in points x dpi / 72), in a widget's drawing.
MIN_TEXT_PX = 9.0

_SCALED = ("edge label", "node label")  # the texts whose size a cell drawing's ``fontsize`` sets


def _texts(ax) -> list:
    """The Axes' own texts and titles (a legend's are placed only when drawn: they are apart)."""
    return [t for t in [*ax.texts, ax.title] if t.get_text() and t.get_visible()]


def _overlap(a, b, tol: float = 0.5) -> bool:
    return a.x0 + tol < b.x1 and b.x0 + tol < a.x1 and a.y0 + tol < b.y1 and b.y0 + tol < a.y1


def _scaled(box, k: float):
    from matplotlib.transforms import Bbox

    cx, cy, w, h = (box.x0 + box.x1) / 2, (box.y0 + box.y1) / 2, box.width * k / 2, box.height * k / 2
    return Bbox.from_extents(cx - w, cy - h, cx + w, cy + h)


def legibility(fig, dpi: float, *, text_scale: float = 1.0) -> dict:
    """How legible ``fig`` is when saved (tight) at ``dpi``.

    Returns ``min_px`` (the smallest visible text: font size in pixels at ``dpi``),
    ``clashes`` (edge labels that overlap another edge label or a node, node labels
    wider than their node, box texts wider than their box) and ``width``, ``height``
    (inches of the tight PNG: the Axes' box, its texts and legend, and savefig's pad).
    ``text_scale``: predict the drawing with edge and node labels (and the legend)
    that many times larger, as a cell drawn with a larger ``fontsize`` has them.
    """
    from matplotlib import rcParams
    from matplotlib.transforms import Bbox

    for ax in fig.axes:
        ax.apply_aspect()  # equal aspect moves the Axes at draw time; place it now
    renderer = fig.canvas.get_renderer()
    px = dpi / 72.0
    patches = {p.get_gid(): p.get_window_extent(renderer) for ax in fig.axes for p in ax.patches
               if (p.get_gid() or "").startswith(("node ", "box "))}
    min_px, labels, clashes, drawn = float("inf"), [], [], list(patches.values())
    for t in [t for ax in fig.axes for t in _texts(ax)]:
        gid = t.get_gid() or ""
        k = text_scale if gid.startswith(_SCALED) else 1.0
        min_px = min(min_px, t.get_fontsize() * k * px)
        extent = _scaled(t.get_window_extent(renderer), k)
        if gid.startswith("edge label") and t.get_bbox_patch() is not None:
            pad = t.get_bbox_patch().get_boxstyle().pad * t.get_fontsize() * k * fig.dpi / 72.0
            extent = extent.padded(pad)
            labels.append((gid, extent))
        elif gid.startswith(("node label ", "box title ", "box text ")):
            owner = patches.get(("node " if gid.startswith("node") else "box ") + gid.rsplit(" ", 1)[1])
            if owner is not None and extent.width > owner.width + 1:
                clashes.append(f"{gid} is wider than its {'node' if gid.startswith('node') else 'box'}")
        drawn.append(extent)
    for ax in fig.axes:
        drawn.append(ax.get_window_extent(renderer))  # a tight crop keeps the Axes' box (its data limits)
        legend = ax.get_legend()
        if legend is not None:
            drawn.append(_scaled(legend.get_window_extent(renderer), text_scale))
            min_px = min([min_px] + [t.get_fontsize() * text_scale * px for t in legend.get_texts()])
    nodes = [(gid, box) for gid, box in patches.items() if gid.startswith("node ")]
    for i, (gid, box) in enumerate(labels):
        clashes += [f"{gid} overlaps {other}" for other, obox in labels[i + 1:] if _overlap(box, obox)]
        clashes += [f"{gid} overlaps {node}" for node, nbox in nodes if _overlap(box, nbox)]
    union = Bbox.union(drawn) if drawn else Bbox.from_extents(0, 0, 0, 0)
    pad = 2 * rcParams["savefig.pad_inches"]
    return {"min_px": min_px, "clashes": clashes, "width": union.width / fig.dpi + pad,
            "height": union.height / fig.dpi + pad}


def _relay_legend(ax, ncol: int) -> None:
    """Lay ``ax``'s legend out again in ``ncol`` columns, under the drawing as before."""
    legend = ax.get_legend()
    if legend is None:
        return
    handles, texts = legend.legend_handles, [t.get_text() for t in legend.get_texts()]
    size = legend.get_texts()[0].get_fontsize() if texts else None
    legend.remove()
    ax.legend(handles=handles, labels=texts, ncol=min(ncol, len(texts)), frameon=False, fontsize=size,
              handlelength=3.6, columnspacing=1.6, loc="upper center", bbox_to_anchor=(0.5, 0.0))


def arch_figure(arch, *, max_size, dpi: float, diff_from=None, title: str | None = None,
                title_size: float = 9.0, min_px: float = MIN_TEXT_PX):
    """A Figure of ``arch`` (or of what changed from ``diff_from``) in at most ``max_size`` inches.

    Tries the ways of drawing listed in the module docstring, a cell at the largest
    size up to its natural one (:func:`nasviz.drawing.default_figsize`) that fits, a
    chain larger too when its text needs it and there is room; returns the first
    whose :func:`legibility` at ``dpi`` has every text at least ``min_px`` pixels, no
    clashes, and fits (else the best of them: fitting, without clashes, largest
    text). ``title`` is set in ``title_size`` points.
    """
    from ..drawing import default_figsize, draw, draw_diff
    from ..drawing.layout import arch_kind

    max_w, max_h = max_size
    min_pt = min_px * 72.0 / dpi

    def render(size, **kwargs):
        fig = new_figure(size)
        ax = fig.add_subplot()
        if diff_from is not None:
            draw_diff(diff_from, arch, ax=ax, **kwargs)
        else:
            draw(arch, ax=ax, **kwargs)
        if title is not None:
            ax.set_title(title, fontsize=title_size)
        return fig

    def fits(report):
        return report["width"] <= max_w + 0.05 and report["height"] <= max_h + 0.05

    def good(report):
        return report["min_px"] >= min_px - 1e-6 and not report["clashes"] and fits(report)

    if arch_kind(arch) == "cell":
        w, h = default_figsize(arch)
        size = (w * min(1.0, max_w / w, max_h / h), h * min(1.0, max_w / w, max_h / h))
        fig = render(size)
        if good(legibility(fig, dpi)):
            return fig
        fitted = min((t.get_fontsize() for t in fig.axes[0].texts if (t.get_gid() or "").startswith("edge label")),
                     default=min_pt)
        if good(legibility(fig, dpi, text_scale=max(1.0, min_pt / fitted))):  # larger labels would still fit
            fig = render(size, fontsize=max(fitted, min_pt))
            if good(legibility(fig, dpi)):
                return fig
        fig = render(size, labels=False, fontsize=min_pt)
        for ncol in (2, 1):  # a legend wider than the room: fewer columns
            if fits(legibility(fig, dpi)):
                break
            _relay_legend(fig.axes[0], ncol)
        return fig

    best = None
    sizes = []
    for per_row in (6, 5, 4, 3, 2):
        w, h = default_figsize(arch, per_row=per_row)
        if (w, h) in sizes:
            continue  # fewer boxes than per_row: the same drawing
        sizes.append((w, h))
        scale = min(1.0, max_w / w, max_h / h)
        for _ in range(3):  # the text scales with the figure: grow it to legible while it fits
            fig = render((w * scale, h * scale), per_row=per_row)
            report = legibility(fig, dpi)
            if good(report):
                return fig
            rank = (fits(report), not report["clashes"], report["min_px"])
            if best is None or rank > best[0]:
                best = (rank, fig)
            grow = min_px / report["min_px"] * 1.02
            if report["clashes"] or grow <= 1.0 or grow > min(max_w / report["width"], max_h / report["height"]):
                break
            scale *= grow
    return best[1]
