"""nasviz: a Jupyter-native toolkit for teaching and exploring Neural Architecture Search.

``import nasviz as nv`` is cheap: torch, matplotlib and ipywidgets load only when a
function that needs them is first used. Public names are resolved lazily below.

Examples
--------
>>> import nasviz as nv
>>> space = nv.CellSpace()
>>> len(space)
15625
>>> str(space.sample(seed=0)).count("~")
6
"""

from __future__ import annotations

import importlib

__version__ = "0.1.0"

# public name -> module that defines it
_LAZY = {
    "Space": "nasviz.spaces",
    "Architecture": "nasviz.spaces",
    "CellSpace": "nasviz.spaces",
    "CellArchitecture": "nasviz.spaces",
    "MacroSpace": "nasviz.spaces",
    "MacroArchitecture": "nasviz.spaces",
    "count_params": "nasviz.model_stats",
    "count_flops": "nasviz.model_stats",
    "draw": "nasviz.drawing",
    "draw_network": "nasviz.drawing",
    "draw_diff": "nasviz.drawing",
    "draw_effects": "nasviz.drawing.effects",
    "Search": "nasviz.search",
    "BatchExecutor": "nasviz.search",
    "History": "nasviz.history",
    "Trial": "nasviz.trial",
    "compare": "nasviz.comparison",
    "Result": "nasviz.estimators.base",
    "export": "nasviz.exporting",
    "load_export": "nasviz.exporting",
}
_SUBMODULES = {
    "assignments", "bench", "cli", "comparison", "course", "data", "devices", "drawing", "errors",
    "estimators", "exporting", "grading", "history", "model_stats", "oneshot", "pareto", "search", "spaces", "storage", "strategies",
    "trial", "validation", "params", "widgets",
}

__all__ = sorted(set(_LAZY) | _SUBMODULES | {"__version__"})


def __getattr__(name: str):
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name]), name)
    elif name in _SUBMODULES:
        value = importlib.import_module(f"nasviz.{name}")
    else:
        raise AttributeError(f"module 'nasviz' has no attribute {name!r}")
    globals()[name] = value
    return value


def __dir__():
    return __all__
