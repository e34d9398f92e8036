"""What a SearchRunner offers: strategy knobs, estimator choices and the table that covers a space."""

from __future__ import annotations

import html
import inspect
import sys
from collections.abc import Mapping

import ipywidgets as W

from ..errors import InvalidArgumentError, UnknownNameError

__all__ = ["ESTIMATOR_KINDS", "default_bench", "estimator_options", "knob_widget", "strategy_knobs",
           "training_defaults", "training_note_html"]

ESTIMATOR_KINDS = ("table", "training", "weight-sharing", "zero-cost")


def strategy_knobs(name: str, space) -> dict:
    """``{keyword: (default, choices or None)}``: the constructor knobs of strategy ``name``.

    Read from the strategy class's signature (keyword-only arguments other than
    ``seed`` that have a default other than None); ``choices`` come from the module's
    upper-case constant of the plural name when there is one (e.g. ``ACQUISITIONS``).

    Examples
    --------
    >>> import nasviz as nv
    >>> strategy_knobs("evolution", nv.CellSpace())
    {'population': (20, None), 'sample': (5, None)}
    >>> strategy_knobs("bo", nv.CellSpace())["acquisition"]
    ('ei', ('ei', 'ucb', 'pi', 'its'))
    """
    from .. import strategies

    cls, fixed = strategies.strategy_class(name)
    module = sys.modules.get(cls.__module__)
    out = {}
    for p in inspect.signature(cls.__init__).parameters.values():
        if p.kind is not p.KEYWORD_ONLY or p.name == "seed" or p.default is None or p.default is p.empty:
            continue
        if p.name in fixed or p.name == "device":  # set by the name itself (darts, gdas), or by the machine
            continue
        choices = getattr(module, p.name.upper() + "S", None)
        out[p.name] = (p.default, tuple(choices) if isinstance(choices, (tuple, list)) else None)
    return out


#: What a SearchRunner's controls choose for its "training" estimator; the rest is Training's default.
TRAINING_CONTROLS = ("data", "space", "epochs", "seed")


def training_defaults() -> dict:
    """``{keyword: default}`` of :class:`nasviz.estimators.Training` that a SearchRunner leaves
    alone (all but the data, space, epochs and seed), read from its signature.

    Examples
    --------
    >>> d = training_defaults()
    >>> "epochs" in d, sorted(k for k in ("batch_size", "channels", "lr") if k in d)
    (False, ['batch_size', 'channels', 'lr'])
    """
    from ..estimators.training import Training

    return {p.name: p.default for p in inspect.signature(Training.__init__).parameters.values()
            if p.name != "self" and p.name not in TRAINING_CONTROLS and p.default is not p.empty}


def training_note_html() -> str:
    """A one-line note of the settings that the "training" estimator takes from ``Training``."""
    from ..estimators.fit import DEFAULT_LR

    d = training_defaults()
    lr = d.get("lr")
    if lr is None:
        lr = DEFAULT_LR.get(d.get("optimizer"), "default")
    text = (f"other settings: nv.estimators.Training's defaults ({d.get('channels')} channels, "
            f"{d.get('cells_per_stage')} cell per stage, batch {d.get('batch_size')}, "
            f"{str(d.get('optimizer')).upper()} lr {lr}, {d.get('schedule')} schedule)")
    return f"<span style='font-size:11px;color:#555'>{html.escape(text, quote=False)}</span>"


def knob_widget(name: str, default, choices):
    """A control for one strategy knob: a dropdown for choices, else by the default's type."""
    label = name.replace("_", " ")
    style = {"description_width": "initial"}
    layout = W.Layout(width="180px")
    if choices is not None:
        return W.Dropdown(options=list(choices), value=default, description=label, style=style, layout=layout)
    if isinstance(default, bool):
        return W.Checkbox(value=default, description=label, indent=False, layout=layout)
    if isinstance(default, int):
        return W.IntText(value=default, description=label, style=style, layout=layout)
    if isinstance(default, float):
        return W.FloatText(value=default, description=label, style=style, layout=layout)
    return W.Text(value=str(default), description=label, style=style, layout=layout)


def default_bench(space):
    """The shipped table that covers ``space`` (nb201-12epoch for NAS-Bench-201's cells), or None."""
    from .. import bench as nvbench
    from ..spaces.cell import CellSpace

    if space == CellSpace() and "nb201-12epoch" in nvbench.available():
        return nvbench.load("nb201-12epoch")
    return None


def estimator_options(estimators, space, bench) -> dict:
    """``{label: kind or Estimator}`` for the estimator dropdown: ``'table'`` (when ``bench`` covers the
    space), ``'training'``, ``'weight-sharing'`` (for a CellSpace), ``'zero-cost'``, or Estimator objects, as
    given in ``estimators``."""
    from ..estimators.base import Estimator
    from ..spaces.cell import CellSpace

    if isinstance(estimators, (str, Estimator)):
        estimators = [estimators]
    items = list(estimators.items()) if isinstance(estimators, Mapping) else [(None, e) for e in estimators]
    out = {}
    for label, e in items:
        if isinstance(e, str):
            if e not in ESTIMATOR_KINDS:
                raise UnknownNameError(f"unknown estimator kind {e!r}; accepted: "
                                       f"{', '.join(map(repr, ESTIMATOR_KINDS))}, or Estimator objects")
            if e == "table" and bench is None:
                continue  # no table covers this space
            if e == "weight-sharing" and not isinstance(space, CellSpace):
                continue  # a supernet holds cells only
            out[label or e] = e
        elif callable(getattr(e, "evaluate", None)):
            out[label or getattr(e, "fidelity", None) or repr(e)] = e
        else:
            raise InvalidArgumentError(f"estimators must hold 'table', 'training', 'weight-sharing', 'zero-cost' "
                                       f"or Estimator objects, got {e!r}")
    if not out:
        raise InvalidArgumentError(f"no estimator to offer for {space!r}: pass bench=... for 'table', "
                                   "or include 'training', 'zero-cost' or an Estimator in estimators")
    return out
