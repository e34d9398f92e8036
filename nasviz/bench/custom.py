"""Your own table as a :class:`Benchmark`: from a pandas DataFrame or a CSV file.

One row per cell: a column of cell strings (NAS-Bench-201's ``|op~0|+|op~0|op~1|+...``
for :class:`~nasviz.spaces.CellSpace`) and numeric columns of metrics. The table may
cover only part of the space; asking it about a cell it lacks raises
:class:`~nasviz.bench.NotInTableError`.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from ..errors import InvalidArchitectureError, InvalidArgumentError, InvalidFileError, NasvizError, check_choice
from ..spaces.base import Architecture, Space
from ..spaces.cell import CellSpace
from ..validation import check_choices
from .benchmark import Benchmark

__all__ = ["from_csv", "from_dataframe"]

_ON_DUPLICATE = ("error", "mean", "first", "last")


def from_dataframe(df, arch_column: str = "arch", metrics: Sequence[str] | None = None, space: Space | None = None,
                   default_metric: str | None = None, cost_column: str | None = None, *, name: str = "custom",
                   on_duplicate: str = "error", train_epochs: int | None = None, description: str = "",
                   _row_name: Callable[[int], str] | None = None) -> Benchmark:
    """A :class:`Benchmark` from a table with one row per cell.

    Parameters
    ----------
    df : pandas.DataFrame
        The table.
    arch_column : str
        The column holding each row's cell (its string, or an Architecture).
    metrics : sequence of str, optional
        The metric columns, in order; default: every numeric column other than
        ``arch_column`` and ``cost_column``. Higher should mean better for scores.
        Empty entries (NaN) are allowed and stay missing; infinite values are refused.
    space : Space, optional
        The space of the cells (default ``nv.CellSpace()``).
    default_metric : str, optional
        What :meth:`Benchmark.query` reads by default (default: the first metric).
    cost_column : str, optional
        Seconds to train each cell (for ``train_epochs`` epochs, if given). Without
        it, every full evaluation costs 1.
    name : str
        The table's name.
    on_duplicate : {"error", "mean", "first", "last"}
        What to do when a cell appears in several rows: raise (naming both rows), or
        keep the mean of its rows (NaN skipped), or the first or last row.
    train_epochs : int, optional
        How many epochs of training the values stand for (lets
        :meth:`Benchmark.cost` scale cost by epochs).
    description : str
        What the table is, for its users.

    Raises
    ------
    InvalidArchitectureError
        A row's cell string is malformed or names an unknown op (the row is named).
    InvalidArgumentError
        A duplicate cell (both rows named), a non-numeric or infinite metric value, or a
        bad cost.

    Examples
    --------
    >>> import pandas as pd, nasviz as nv
    >>> df = pd.DataFrame({
    ...     "arch": ["|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|",
    ...              "|none~0|+|none~0|none~1|+|none~0|none~1|none~2|"],
    ...     "val_acc": [0.91, 0.10]})
    >>> bench = nv.bench.from_dataframe(df)
    >>> len(bench), bench.optimum()[1]
    (2, 0.91)
    >>> bench.space.sample(seed=0) in bench
    False
    """
    import pandas as pd

    if not isinstance(df, pd.DataFrame):
        raise InvalidArgumentError(f"df must be a pandas DataFrame, got {type(df).__name__}")
    space = CellSpace() if space is None else space
    if not isinstance(space, Space):
        raise InvalidArgumentError(f"space must be a nasviz Space such as nv.CellSpace(), got {space!r}")
    _check_columns(df, arch_column, cost_column, on_duplicate)
    metrics = _metric_columns(df, metrics, arch_column, cost_column)
    if default_metric is not None:
        check_choice("default_metric", default_metric, metrics)
    row_name = _row_name or (lambda pos: f"row {_plain(df.index[pos])!r}")

    if not len(df):
        raise InvalidArgumentError("the table has no rows")
    rows = _cell_rows(df[arch_column].tolist(), space, arch_column, row_name)
    values = {m: _numeric(df[m], m, row_name) for m in metrics}
    cost = None if cost_column is None else _cost_seconds(df, cost_column, row_name)
    cells, per_cell = _one_row_per_cell(rows, on_duplicate, space, row_name)
    return Benchmark(name, space, {m: per_cell(v) for m, v in values.items()}, default_metric=default_metric,
                     rows=cells, cost=None if cost is None else per_cell(cost), train_epochs=train_epochs,
                     description=description)


def _check_columns(df, arch_column: str, cost_column: str | None, on_duplicate: str) -> None:
    """The cell column and the cost column are columns of ``df``; ``on_duplicate`` is a known choice."""
    columns = list(df.columns)
    check_choice("arch_column", arch_column, columns)
    if cost_column is not None:
        check_choice("cost_column", cost_column, columns)
    check_choice("on_duplicate", on_duplicate, _ON_DUPLICATE, error=InvalidArgumentError)


def _metric_columns(df, metrics, arch_column: str, cost_column: str | None) -> list[str]:
    """The metric columns: those named (each once, each a column), or every numeric column but the cell's and
    the cost's."""
    import pandas as pd

    columns = list(df.columns)
    if metrics is None:
        metrics = [c for c in columns if c not in (arch_column, cost_column) and pd.api.types.is_numeric_dtype(df[c])
                   and not pd.api.types.is_bool_dtype(df[c])]
        if not metrics:
            raise InvalidArgumentError(f"no numeric metric columns besides {arch_column!r}; columns: {columns}")
        return metrics
    if isinstance(metrics, str):
        metrics = [metrics]
    if not metrics and isinstance(metrics, (list, tuple)):
        raise InvalidArgumentError("metrics is empty: name at least one column")
    metrics = list(check_choices("metrics", metrics, distinct=False))
    for m in metrics:
        check_choice("metric column", m, columns)
    if len(set(metrics)) != len(metrics):
        raise InvalidArgumentError(f"metrics names a column twice: {metrics}")
    return metrics


def _cost_seconds(df, cost_column: str, row_name) -> np.ndarray:
    """The cost column as seconds, each finite and >= 0."""
    cost = _numeric(df[cost_column], cost_column, row_name)
    bad = ~(np.isfinite(cost) & (cost >= 0))
    if bad.any():
        pos = int(np.flatnonzero(bad)[0])
        raise InvalidArgumentError(f"{row_name(pos)}: cost column {cost_column!r} must hold seconds >= 0, "
                                   f"got {df[cost_column].iloc[pos]!r}")
    return cost


def _one_row_per_cell(rows: np.ndarray, on_duplicate: str, space: Space, row_name):
    """``(cells, per_cell)``: the distinct space indices of ``rows``, sorted, and the function that turns a
    column (one value per row) into one value per cell as ``on_duplicate`` says. Duplicates with
    ``on_duplicate="error"`` raise, naming both rows."""
    order = np.argsort(rows, kind="stable")
    sorted_rows = rows[order]
    dup = sorted_rows[1:] == sorted_rows[:-1]
    if dup.any() and on_duplicate == "error":
        k = int(np.flatnonzero(dup)[0])
        first, second = int(order[k]), int(order[k + 1])
        raise InvalidArgumentError(
            f"{row_name(first)} and {row_name(second)} are the same cell "
            f"{str(space[int(sorted_rows[k])])!r}; keep one, or pass on_duplicate='mean' (or 'first', 'last')"
        )
    # cells: the distinct space indices, sorted; group[r]: which cell row r belongs to
    cells, first, group = np.unique(rows, return_index=True, return_inverse=True)
    if on_duplicate == "last":
        _, last = np.unique(rows[::-1], return_index=True)
        pick = len(rows) - 1 - last
    else:
        pick = first  # "error" (no duplicates left) and "first"

    def per_cell(col: np.ndarray) -> np.ndarray:
        if on_duplicate != "mean":
            return col[pick]
        ok = np.isfinite(col)
        total = np.bincount(group[ok], weights=col[ok], minlength=len(cells))
        count = np.bincount(group[ok], minlength=len(cells))
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(count > 0, total / np.maximum(count, 1), np.nan)

    return cells, per_cell


def from_csv(path, arch_column: str = "arch", metrics: Sequence[str] | None = None, space: Space | None = None,
             default_metric: str | None = None, cost_column: str | None = None, *, name: str | None = None,
             on_duplicate: str = "error", train_epochs: int | None = None, description: str = "",
             sep: str = ",") -> Benchmark:
    """A :class:`Benchmark` from a CSV file with a header line and one row per cell.

    Takes the arguments of :func:`from_dataframe`; ``name`` defaults to the file's
    stem. Errors name the file's line number of the offending row. A file that is
    not such a CSV -- empty, not UTF-8 text, an unterminated quote, a row with more
    or fewer fields than the header -- raises :class:`~nasviz.errors.InvalidFileError`
    naming the file and the cause.

    Examples
    --------
    >>> import tempfile, pathlib, nasviz as nv
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "mine.csv"
    >>> _ = path.write_text("arch,val_acc\\n|none~0|+|none~0|none~1|+|none~0|none~1|none~2|,0.1\\n")
    >>> nv.bench.from_csv(path)
    Benchmark('mine': 1 of 15,625 cells of CellSpace(); metrics: val_acc (default 'val_acc'))
    """
    import io

    import pandas as pd

    if not isinstance(path, (str, os.PathLike)):
        raise InvalidArgumentError(f"path must be the path of a CSV file (a str or pathlib.Path), got {path!r}")
    path = Path(path)
    if not path.is_file():
        what = "is a directory, not a CSV file" if path.is_dir() else "does not exist"
        raise InvalidFileError(f"no such CSV file: {str(path)!r} {what}")
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise InvalidFileError(f"cannot read the CSV file {str(path)!r}: it is not UTF-8 text (byte "
                               f"{err.object[err.start:err.start + 1]!r} at offset {err.start}); save it as UTF-8"
                               ) from None
    except OSError as err:
        raise InvalidFileError(f"cannot read the CSV file {str(path)!r}: {err.strerror or err}") from None
    if not text.strip():
        raise InvalidFileError(f"the CSV file {str(path)!r} is empty: it needs a header line "
                               f"({arch_column!r} and metric columns) and one row per cell")
    _check_fields(text, sep, path)
    # blank lines are kept (then dropped) so that row k is line k + 2 of the file
    try:
        df = pd.read_csv(io.StringIO(text), sep=sep, skip_blank_lines=False)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, ValueError) as err:
        cause = " ".join(str(err).split()).replace("Error tokenizing data. C error: ", "")
        raise InvalidFileError(f"cannot read the CSV file {str(path)!r}: {cause}") from None
    lines = np.arange(len(df)) + 2
    keep = ~df.isna().all(axis=1).to_numpy()
    df, lines = df[keep].reset_index(drop=True), lines[keep]
    if not len(df):
        raise InvalidFileError(f"the CSV file {str(path)!r} has a header line but no rows (one per cell)")
    return from_dataframe(df, arch_column, metrics, space, default_metric, cost_column,
                          name=path.stem if name is None else name, on_duplicate=on_duplicate,
                          train_epochs=train_epochs, description=description,
                          _row_name=lambda pos: f"line {lines[pos]} of {path.name}")


def _check_fields(text: str, sep: str, path: Path) -> None:
    """Refuse a row with more or fewer fields than the header (pandas would shift or pad it)."""
    import csv

    if len(sep) != 1:  # a regular expression: pandas' python engine checks it
        return
    reader = csv.reader(text.splitlines(keepends=True), delimiter=sep, strict=True)
    width = None
    try:
        for row in reader:
            if not row or (len(row) == 1 and not row[0].strip()):
                continue  # a blank line
            if width is None:
                width = len(row)
            elif len(row) != width:
                shown = sep.join(row)
                shown = shown if len(shown) <= 80 else shown[:77] + "..."
                raise InvalidFileError(
                    f"line {reader.line_num} of the CSV file {str(path)!r} has {len(row)} fields, the header has "
                    f"{width}: {shown!r}")
    except csv.Error as err:
        raise InvalidFileError(f"cannot read the CSV file {str(path)!r}: line {reader.line_num}: {err}") from None


def _cell_rows(cells: list, space: Space, arch_column: str, row_name) -> np.ndarray:
    rows = np.empty(len(cells), dtype=np.int64)
    for pos, cell in enumerate(cells):
        try:
            if isinstance(cell, Architecture):
                arch = cell
            elif isinstance(cell, str):
                arch = space.from_string(cell.strip())
            elif cell is None or (isinstance(cell, float) and np.isnan(cell)):
                raise InvalidArchitectureError("the cell string is empty")
            else:
                raise InvalidArchitectureError(f"expected a cell string, got {cell!r}")
            rows[pos] = space.index(arch)
        except NasvizError as err:
            raise InvalidArchitectureError(f"{row_name(pos)}, column {arch_column!r}: {err}") from None
    return rows


def _plain(label):
    """A numpy scalar as the Python value it holds (for messages)."""
    return label.item() if isinstance(label, np.generic) else label


def _numeric(series, column: str, row_name) -> np.ndarray:
    import pandas as pd

    values = pd.to_numeric(series, errors="coerce")
    bad = values.isna().to_numpy() & series.notna().to_numpy()
    if bad.any():
        pos = int(np.flatnonzero(bad)[0])
        raise InvalidArgumentError(f"{row_name(pos)}: column {column!r} must be numeric, got {series.iloc[pos]!r}")
    out = values.to_numpy(dtype=np.float64)
    infinite = np.isinf(out)
    if infinite.any():
        pos = int(np.flatnonzero(infinite)[0])
        raise InvalidArgumentError(f"{row_name(pos)}: column {column!r} must hold finite numbers (or be empty), "
                                   f"got {_plain(series.iloc[pos])!r}")
    return out

