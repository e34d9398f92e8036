"""What every widget shares: a message line for errors, figures shown as PNG in an
``Output``, a throttle for live updates, and a background thread that reports its
errors in the widget.

Figures are ``matplotlib.figure.Figure`` objects made without pyplot: nothing is
registered in pyplot's global figure list, so nothing leaks and nothing is shown
twice, and drawing from a background thread touches no global state. Each figure
is rendered to PNG and put in its ``Output`` widget's ``outputs`` in one update,
which also works headless (tests read ``output.outputs``).
"""

from __future__ import annotations

import base64
import html
import io
import threading
import time

import ipywidgets as W

from ..errors import InvalidArgumentError, NasvizError

__all__ = [
    "Throttle",
    "WidgetBase",
    "code_html",
    "describe_error",
    "new_figure",
    "show_figure",
    "show_text",
    "table_html",
]

#: The longest error message shown in a widget (longer ones are cut with an ellipsis).
MAX_MESSAGE = 400


def describe_error(err: BaseException) -> str:
    """A short, one-paragraph message for ``err``: nasviz errors as they are (they
    say how to fix the call), other exceptions with their type.

    Examples
    --------
    >>> describe_error(ValueError("budget must be >= 1"))
    'ValueError: budget must be >= 1'
    """
    text = str(err) if isinstance(err, NasvizError) else f"{type(err).__name__}: {err}"
    text = " ".join(text.split())
    return text if len(text) <= MAX_MESSAGE else text[:MAX_MESSAGE - 1] + "\u2026"


def new_figure(figsize=(6.4, 4.0)):
    """A matplotlib Figure with an Agg canvas, not registered with pyplot."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=figsize)
    FigureCanvasAgg(fig)
    return fig


def figure_png(fig, dpi: int = 90, tight: bool = True) -> bytes:
    """The PNG bytes of ``fig``; ``tight``: cropped to what is drawn (costs a second draw)."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, bbox_inches="tight" if tight else None, facecolor="white")
    return buf.getvalue()


def show_figure(output: W.Output, fig, dpi: int = 90, alt: str = "figure", tight: bool = True) -> bytes:
    """Replace what ``output`` shows by ``fig`` (as PNG, in one update); return the PNG."""
    png = figure_png(fig, dpi=dpi, tight=tight)
    output.outputs = ({
        "output_type": "display_data",
        "data": {"image/png": base64.b64encode(png).decode("ascii"), "text/plain": f"<{alt}>"},
        "metadata": {},
    },)
    return png


def show_text(output: W.Output, text: str) -> None:
    """Replace what ``output`` shows by plain text."""
    output.outputs = ({"output_type": "display_data", "data": {"text/plain": text}, "metadata": {}},)


#: How :func:`table_html` shows its ``code_columns``: monospace, a little smaller, wrapping
#: where the line is too narrow (at the break points, else anywhere) instead of being cut.
CODE_STYLE = "font-family:monospace;font-size:11px;line-height:1.4;white-space:normal;overflow-wrap:anywhere"


def code_html(text: str) -> str:
    """``text`` escaped, with break opportunities after each ``+`` (between a cell's nodes)
    and ``>`` (between a chain's layers).

    Examples
    --------
    >>> code_html("|a~0|+|b~0|c~1|")
    '|a~0|+<wbr>|b~0|c~1|'
    """
    out = html.escape(str(text), quote=False)
    return out.replace("+", "+<wbr>").replace("&gt;", "&gt;<wbr>")


def table_html(header, rows, *, caption: str | None = None, code_columns=()) -> str:
    """A small HTML table; cells are escaped (pass ``str`` values; floats are formatted).

    ``code_columns``: indices of columns shown as code (architecture strings): in
    :data:`CODE_STYLE`, wrapping between nodes or layers (:func:`code_html`) rather
    than running past the right edge. The table is at most as wide as its container.

    Examples
    --------
    >>> "0.5</td>" in table_html(["a"], [[0.5]])
    True
    >>> "+<wbr>" in table_html(["arch"], [["|a~0|+|b~0|c~1|"]], code_columns=(0,))
    True
    """
    def cell(v):
        if isinstance(v, float):
            v = f"{v:.4g}"
        return html.escape(str(v), quote=False)

    code = set(code_columns)
    style = "border-collapse:collapse;font-size:12px;max-width:100%"
    head = "".join(f"<th style='text-align:left;padding:1px 8px'>{cell(h)}</th>" for h in header)
    body = "".join(
        "<tr>" + "".join(f"<td style='padding:1px 8px;{CODE_STYLE}'>{code_html(v)}</td>" if j in code
                         else f"<td style='padding:1px 8px'>{cell(v)}</td>" for j, v in enumerate(row)) + "</tr>"
        for row in rows)
    cap = f"<caption style='text-align:left;font-weight:bold'>{html.escape(caption)}</caption>" if caption else ""
    return f"<table style='{style}'>{cap}<tr>{head}</tr>{body}</table>"


def int_value(what: str, value, minimum: int = 1) -> int:
    """``value`` as an int >= ``minimum`` or an :class:`InvalidArgumentError` naming it."""
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise InvalidArgumentError(f"{what} must be an integer >= {minimum}, got {value!r}")
    return value


class Throttle:
    """Call ``fn`` at most once every ``interval`` seconds; later calls are remembered.

    ``throttle()`` runs ``fn`` at once if the last run ended long enough ago, otherwise
    marks an update as pending; ``flush()`` runs a pending one. "Long enough" is
    ``interval`` seconds, or ``spacing`` times as long as the last run took when that
    is longer, so that slow redraws never take more than ``1 / (1 + spacing)`` of the
    time. Safe to call from several threads (runs never overlap).

    Examples
    --------
    >>> calls = []
    >>> t = Throttle(lambda: calls.append(1), interval=60)
    >>> t(); t(); t()
    >>> len(calls), t.pending
    (1, True)
    >>> t.flush(); len(calls), t.pending
    (2, False)
    """

    def __init__(self, fn, interval: float = 0.25, spacing: float = 2.0):
        self.fn = fn
        self.interval = interval
        self.spacing = spacing
        self.pending = False
        self.calls = 0
        self._last = -float("inf")
        self._took = 0.0
        self._lock = threading.RLock()

    def __call__(self, force: bool = False) -> None:
        with self._lock:
            if force or time.monotonic() - self._last >= max(self.interval, self.spacing * self._took):
                self._run()
            else:
                self.pending = True

    def flush(self) -> None:
        with self._lock:
            if self.pending:
                self._run()

    def _run(self) -> None:
        self.pending = False
        start = time.monotonic()
        try:
            self.fn()
        finally:
            self._last = time.monotonic()
            self._took = self._last - start
            self.calls += 1


def as_benchmark(bench):
    """``bench`` as a :class:`~nasviz.bench.Benchmark`: a table name is loaded, a Benchmark kept.

    Examples
    --------
    >>> as_benchmark("nb201-12epoch").name
    'nb201-12epoch'
    >>> as_benchmark(3)
    Traceback (most recent call last):
    ...
    nasviz.errors.InvalidArgumentError: bench must be a Benchmark or a table name (nv.bench.available()), got 3
    """
    from ..bench import Benchmark, load

    table = load(bench) if isinstance(bench, str) else bench
    if not isinstance(table, Benchmark):
        raise InvalidArgumentError(f"bench must be a Benchmark or a table name (nv.bench.available()), got {bench!r}")
    return table


def _close_tree(widget) -> None:
    for child in getattr(widget, "children", ()):
        _close_tree(child)
    widget.close()


class WidgetBase:
    """Shared behaviour: a root ``box``, a ``message`` line, guarded handlers, a
    background thread, a readable ``repr``, and display in Jupyter.

    Subclasses list their constructor arguments in ``_params`` (stored unchanged under
    the same names) and may add a short state summary in ``_state()``.
    """

    _params: tuple = ()

    def _init_common(self) -> None:
        self.message = W.HTML(value="", layout=W.Layout(min_height="0px"))
        self.thread_ = None
        self.error_ = None
        self._lock = threading.RLock()

    # -- messages ------------------------------------------------------------------
    def _show_error(self, err: BaseException) -> None:
        self.error_ = describe_error(err)
        self.message.value = (
            "<div style='color:#a61b1b;background:#fdecea;border-left:3px solid #a61b1b;padding:2px 8px;"
            f"font-size:13px'>{html.escape(self.error_, quote=False)}</div>")

    def _clear_message(self) -> None:
        self.error_ = None
        self.message.value = ""

    def _guard(self, fn):
        """``fn`` wrapped for a widget callback: clears the message, shows any exception in it."""
        def handler(*args, **kwargs):
            self._clear_message()
            try:
                return fn(*args, **kwargs)
            except Exception as err:  # noqa: BLE001 - shown in the widget, the widget stays usable
                self._show_error(err)
                return None
        handler.__name__ = getattr(fn, "__name__", "handler")
        return handler

    # -- background work -----------------------------------------------------------
    @property
    def running(self) -> bool:
        """Whether the widget's background thread is working."""
        return self.thread_ is not None and self.thread_.is_alive()

    def _start_thread(self, target, name: str) -> threading.Thread:
        def body():
            try:
                target()
            except Exception as err:  # noqa: BLE001 - shown in the widget
                self._show_error(err)
            finally:
                self._thread_done()

        self.thread_ = threading.Thread(target=body, name=f"nasviz-{name}", daemon=True)
        self.thread_.start()
        return self.thread_

    def _begin_run(self, total: int, status: str) -> None:
        """Reset the Stop flag and the progress bar to ``total`` steps, lock Run, unlock Stop, show ``status``."""
        self._stop.clear()
        self.progress.max = total
        self.progress.value = 0
        self.run_button.disabled = True
        self.stop_button.disabled = False
        self.status.value = status

    def _thread_done(self) -> None:
        """Called in the thread when it ends (errors included); subclasses re-enable buttons."""

    def wait(self, timeout: float | None = None) -> bool:
        """Wait for the background work to finish; True if it did within ``timeout`` seconds."""
        thread = self.thread_
        if thread is not None:
            thread.join(timeout)
            return not thread.is_alive()
        return True

    def close(self) -> None:
        """Stop background work and close every sub-widget (their views disappear)."""
        stop = getattr(self, "stop", None)
        if callable(stop) and self.running:
            stop()
            self.wait(10)
        _close_tree(self.box)

    # -- display -------------------------------------------------------------------
    @property
    def box(self) -> W.Box:
        """The root widget (a ``VBox``); its DOM classes are ``nasviz-widget`` and
        ``nasviz-<classname>`` (lower case), for styling and browser tests."""
        return self._box

    @box.setter
    def box(self, value: W.Box) -> None:
        value.add_class("nasviz-widget")
        value.add_class(f"nasviz-{type(self).__name__.lower()}")
        self._box = value

    def _repr_mimebundle_(self, **kwargs):
        render = getattr(self.box, "_repr_mimebundle_", None)  # None when no front end is connected
        data = render(**kwargs) if callable(render) else None
        if not data:
            return {"text/plain": repr(self)}
        data = dict(data)
        data["text/plain"] = repr(self)
        return data

    def _state(self) -> str:
        return ""

    def __repr__(self) -> str:
        parts = [f"{k}={getattr(self, k)!r}" for k in self._params]
        state = self._state()
        return f"{type(self).__name__}({', '.join(parts)})" + (f"  # {state}" if state else "")
