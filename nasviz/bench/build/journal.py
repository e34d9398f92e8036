"""The build journal: a folder with the recipe and one append-only segment file per build run.

- ``recipe.json``: the recipe the journal was built with, the number of classes and the
  sizes of the validation and test sets. A build with another recipe refuses to append.
- ``seg-<UTC time>-<pid>.jsonl.gz``: one file per build run. Its first record says
  where and with what code the run trained; each finished chunk follows as its own gzip
  member holding one JSON line, flushed and synced at once. A member cut short by a kill
  ends the file when it is read.
"""

from __future__ import annotations

import gzip
import json
import os
import time
import zlib
from pathlib import Path

from ...errors import InvalidArgumentError, NasvizError

__all__ = ["FORMAT", "JOURNAL_DIR", "IncompleteBuildError", "Segment", "elapsed_seconds", "journal_path",
           "read_journal"]

#: Where the journals of the tables nasviz builds live (``nasviz/bench/journal/<name>``).
JOURNAL_DIR = Path(__file__).resolve().parent.parent / "journal"
#: The format number of ``recipe.json``.
FORMAT = 1


class IncompleteBuildError(NasvizError):
    """The journal does not hold every (class, seed) run yet."""


def journal_path(name: str, journal) -> Path:
    """The journal folder: ``journal``, or the table's own under :data:`JOURNAL_DIR`."""
    return JOURNAL_DIR / name if journal is None else Path(journal)


def _header(name: str, recipe, n_classes: int, data) -> dict:
    """What ``recipe.json`` holds for a build of table ``name`` with ``recipe`` on ``data``."""
    return {"format": FORMAT, "table": name, "recipe": recipe.identity(), "classes": int(n_classes),
            "n_val": len(data.y_val), "n_test": len(data.y_test)}


def _check_header(path: Path, header: dict) -> None:
    """Write ``recipe.json`` into a new journal; refuse a journal built with another recipe, naming the difference."""
    file = path / "recipe.json"
    if not file.is_file():
        path.mkdir(parents=True, exist_ok=True)
        file.write_text(json.dumps(header, indent=1, sort_keys=True) + "\n")
        return
    old = json.loads(file.read_text())
    if old != header:
        diff = sorted(k for k in set(old.get("recipe", {})) | set(header["recipe"])
                      if old.get("recipe", {}).get(k) != header["recipe"].get(k))
        other = sorted(k for k in set(old) | set(header) if k != "recipe" and old.get(k) != header.get(k))
        raise InvalidArgumentError(
            f"the journal {str(path)!r} was built with another recipe (differs in {diff + other}: journal "
            f"{ {k: old.get('recipe', {}).get(k, old.get(k)) for k in diff + other} }, asked "
            f"{ {k: header['recipe'].get(k, header.get(k)) for k in diff + other} }); use the journal's recipe "
            "or another --journal folder")


def _read_members(file: Path):
    """The JSON records of one segment file; a member cut short by a kill ends the file."""
    data = file.read_bytes()
    records = []
    while data:
        d = zlib.decompressobj(wbits=31)
        try:
            text = d.decompress(data)
        except zlib.error:
            break
        if not d.eof:
            break
        for line in text.decode("utf-8", "replace").splitlines():
            try:
                records.append(json.loads(line))
            except json.JSONDecodeError:
                pass
        data = d.unused_data
    return records


def read_journal(journal) -> dict:
    """Everything in a journal folder: ``header``, ``runs`` ({(class, seed): cell record}),
    ``chunks`` (chunk records without their cells) and ``segments`` (start records).

    A (class, seed) pair that appears twice (two builds racing) keeps its first record.
    """
    path = Path(journal)
    file = path / "recipe.json"
    if not file.is_file():
        raise InvalidArgumentError(f"{str(path)!r} is not a build journal (no recipe.json); start a build with "
                                   "'python -m nasviz.bench build digits201 --journal PATH'")
    header = json.loads(file.read_text())
    runs, chunks, segments = {}, [], []
    for seg in sorted(path.glob("seg-*.jsonl.gz")):
        for rec in _read_members(seg):
            if "segment" in rec:
                segments.append(dict(rec, file=seg.name))
                continue
            if "cells" not in rec:
                continue
            seed = int(rec["seed"])
            for cell in rec["cells"]:
                runs.setdefault((int(cell["class"]), seed), dict(cell, seed=seed))
            chunks.append({k: v for k, v in rec.items() if k != "cells"} | {"file": seg.name})
    return {"header": header, "runs": runs, "chunks": chunks, "segments": segments}


def elapsed_seconds(journal: dict) -> float:
    """Wall-clock seconds of all build runs of a :func:`read_journal` (each segment's start to its last chunk)."""
    ends: dict = {}
    for c in journal["chunks"]:
        ends[c["file"]] = max(ends.get(c["file"], 0.0), c["end"])
    return float(sum(ends[s["file"]] - s["start"] for s in journal["segments"] if s["file"] in ends))


class Segment:
    """One build run's append-only file in the journal folder ``path``: each record a gzip member, synced at once."""

    def __init__(self, path: Path):
        stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime())
        self.file = path / f"seg-{stamp}-{os.getpid()}.jsonl.gz"
        self._f = open(self.file, "ab")  # noqa: SIM115 (kept open for the build run, closed by close())

    def append(self, record: dict) -> None:
        line = json.dumps(record, separators=(",", ":"), sort_keys=True) + "\n"
        self._f.write(gzip.compress(line.encode(), compresslevel=9, mtime=0))
        self._f.flush()
        os.fsync(self._f.fileno())

    def close(self) -> None:
        self._f.close()
