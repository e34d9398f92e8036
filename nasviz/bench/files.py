"""Table files: the NPZ format that :meth:`Benchmark.save` writes and :meth:`Benchmark.read` reads.

A table file is a zip of ``.npy`` arrays (no pickled objects) with fixed timestamps,
so the same table gives the same bytes: ``meta`` (a JSON header), one
``metric.<name>`` array per metric, and optionally ``rows`` and ``cost``
(``nasviz/bench/README.md``, "File format"). Reading checks the file against its
header and names the file and the cause of any damage.
"""

from __future__ import annotations

import inspect
import io
import json
import zipfile
from collections.abc import Callable, Mapping
from pathlib import Path

import numpy as np

from ..errors import InvalidArgumentError, InvalidFileError, NasvizError
from ..spaces.base import Space
from ..spaces.cell import CellSpace
from ..spaces.macro import MacroSpace

__all__ = ["FORMAT", "METADATA_KEYS", "METRIC_PREFIX", "SPACE_TYPES", "read_table", "space_from_spec", "space_spec",
           "write_npz"]

#: The format number a table file's header carries.
FORMAT = 1
#: Metric ``m`` is the file's entry ``METRIC_PREFIX + m``.
METRIC_PREFIX = "metric."
#: What a table file's header holds (:meth:`Benchmark.save` writes them all, and ``format``).
METADATA_KEYS = ("name", "space", "metrics", "default_metric", "epochs", "seeds", "train_epochs", "description")


def write_npz(path, arrays: Mapping[str, np.ndarray]) -> Path:
    """Write ``arrays`` to a compressed NPZ with fixed timestamps (same arrays, same bytes)."""
    path = Path(path)
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for key, arr in arrays.items():
            buf = io.BytesIO()
            arr = np.asarray(arr)
            np.lib.format.write_array(buf, arr if arr.flags.c_contiguous else arr.copy(order="C"), allow_pickle=False)
            info = zipfile.ZipInfo(f"{key}.npy", date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            zf.writestr(info, buf.getvalue(), compresslevel=9)
    return path


#: The spaces a table file can hold, by the ``type`` its header's ``space`` names.
SPACE_TYPES = {"CellSpace": CellSpace, "MacroSpace": MacroSpace}


def _arguments(cls) -> list[str]:
    return [n for n in inspect.signature(cls.__init__).parameters if n != "self"]


def _plain(value):
    """A constructor argument in JSON form: sequences as lists, numpy scalars as Python numbers."""
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, (str, bool, int, float)) or value is None:
        return value
    return [_plain(v) for v in value]


def space_spec(space: Space) -> dict:
    """The header's description of a space (what :func:`space_from_spec` rebuilds it from): its ``type``
    and its constructor's keyword arguments, JSON lists for tuples.

    A :class:`~nasviz.CellSpace` is written as ``{"type": "CellSpace", "ops": [...], "nodes": N}``; a
    :class:`~nasviz.MacroSpace` with every argument of its constructor. Another space raises
    :class:`~nasviz.errors.InvalidArgumentError`.

    Examples
    --------
    >>> import nasviz as nv
    >>> space_spec(nv.CellSpace())["nodes"]
    4
    >>> spec = space_spec(nv.MacroSpace(max_layers=1, fc_units=(16,), max_fc_layers=1))
    >>> spec["type"], spec["fc_units"], space_from_spec(spec) == nv.MacroSpace(max_layers=1, fc_units=(16,),
    ...                                                                      max_fc_layers=1)
    ('MacroSpace', [16], True)
    """
    if isinstance(space, CellSpace):
        return {"type": "CellSpace", "ops": list(space.ops), "nodes": space.nodes}
    if type(space) is MacroSpace:
        spec = {"type": "MacroSpace", **{k: _plain(getattr(space, k)) for k in _arguments(MacroSpace)}}
        if space_from_spec(spec) != space:
            raise InvalidArgumentError(f"{space!r} cannot be written to a table file: its arguments do not rebuild "
                                       f"it ({spec})")
        return spec
    raise InvalidArgumentError(f"only tables over a CellSpace or a MacroSpace can be saved, this one is over "
                               f"{space!r}; accepted: {', '.join(map(repr, SPACE_TYPES))}")


def space_from_spec(spec: dict) -> Space:
    """The space a table file's header describes (:func:`space_spec`); an unknown ``type`` raises
    :class:`~nasviz.errors.UnknownNameError` naming it and the accepted ones."""
    from ..errors import check_choice

    kind = check_choice("space type", spec["type"], SPACE_TYPES)
    if kind == "CellSpace":
        space = CellSpace(ops=tuple(spec["ops"]), nodes=spec["nodes"])
        return CellSpace() if space == CellSpace() else space
    arguments = {k: tuple(v) if isinstance(v, list) else v for k, v in spec.items() if k != "type"}
    return MacroSpace(**arguments)


def read_table(path, make: Callable):
    """Read a table file and return ``make(name, space, values, **fields)`` (the :class:`Benchmark`).

    A file that is not such a table -- not an NPZ (zip) file at all, truncated,
    without its ``meta`` header or a metric's array, or holding arrays that do not
    fit the header (``make`` raising a nasviz error) -- raises
    :class:`~nasviz.errors.InvalidFileError` naming the file and the cause.
    """
    path = Path(path)
    meta, values, rows, cost = _read_arrays(path)
    try:
        space = space_from_spec(meta["space"])
        return make(meta["name"], space, values, default_metric=meta["default_metric"], epochs=meta["epochs"],
                    seeds=meta["seeds"], rows=rows, cost=cost, train_epochs=meta["train_epochs"],
                    description=meta["description"])
    except NasvizError as err:
        raise _bad(path, err) from None
    except (KeyError, TypeError) as err:
        raise _bad(path, f"its header's 'space' must be {{'type': 'CellSpace', 'ops': [...], 'nodes': N}} or "
                         f"{{'type': 'MacroSpace', ...its keyword arguments}}, got {meta.get('space')!r} "
                         f"({type(err).__name__}: {err})") from None


def _bad(path: Path, cause) -> InvalidFileError:
    return InvalidFileError(f"cannot read the benchmark file {str(path)!r}: {cause}")


def _read_arrays(path: Path):
    """``(meta, values, rows, cost)`` of a table file whose header and entries agree."""
    try:
        is_zip = zipfile.is_zipfile(path)
    except OSError as err:
        raise _bad(path, err.strerror or err) from None
    if not is_zip:
        raise _bad(path, "it is not an NPZ file (the zip of arrays that Benchmark.save writes); "
                         "it is another kind of file, or truncated")
    try:
        with np.load(path, allow_pickle=False) as npz:
            files = set(npz.files)
            meta = _header(path, npz, files)
            values = {m: npz[METRIC_PREFIX + m] for m in meta["metrics"]}
            rows = npz["rows"] if "rows" in files else None
            cost = npz["cost"] if "cost" in files else None
    except NasvizError:
        raise
    except (OSError, EOFError, ValueError, KeyError, zipfile.BadZipFile) as err:  # damaged entries
        raise _bad(path, f"{type(err).__name__}: {err}") from None
    return meta, values, rows, cost


def _header(path: Path, npz, files: set) -> dict:
    """The file's JSON header, checked: its format, its keys, and an array for each metric it names."""
    if "meta" not in files:
        raise _bad(path, "it is not a nasviz benchmark file (no 'meta' entry)")
    try:
        meta = json.loads(str(npz["meta"].reshape(-1)[0]))
    except (IndexError, ValueError):
        raise _bad(path, "its 'meta' entry is not the JSON header of a nasviz table") from None
    if not isinstance(meta, dict):
        raise _bad(path, f"its 'meta' entry is not the JSON header of a nasviz table: {meta!r}")
    if meta.get("format") != FORMAT:
        raise _bad(path, f"unsupported benchmark file format {meta.get('format')!r}")
    missing = [k for k in METADATA_KEYS if k not in meta]
    if missing:
        raise _bad(path, f"its header lacks {', '.join(map(repr, missing))}")
    metrics = meta["metrics"]
    if not isinstance(metrics, list) or not all(isinstance(m, str) for m in metrics):
        raise _bad(path, f"its header's 'metrics' must list metric names, got {metrics!r}")
    absent = [m for m in metrics if METRIC_PREFIX + m not in files]
    if absent:
        raise _bad(path, f"no array for metric{'s' if len(absent) > 1 else ''} {', '.join(map(repr, absent))} "
                         f"(entries {', '.join(repr(METRIC_PREFIX + m) for m in absent)}); the file is incomplete")
    return meta
