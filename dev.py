#!/usr/bin/env python3
"""Set up nasviz in a local virtual environment (.venv) and open the course or run the tests.

    python3 dev.py lab     # set everything up, open the course in JupyterLab
    python3 dev.py test    # set everything up, run the whole test suite

Needs only Python >= 3.10 and git. Extra arguments after ``test`` go to pytest.
"""

from __future__ import annotations

import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
TORCH = "torch==2.13.0"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")


def run(*cmd: str) -> None:
    print("+", " ".join(cmd), flush=True)
    subprocess.run(cmd, check=True, cwd=ROOT)


def setup(extras: str) -> Path:
    python = BIN / ("python.exe" if os.name == "nt" else "python")
    if not python.exists():
        venv.EnvBuilder(with_pip=True).create(VENV)
    stamp = VENV / f".installed-{extras}"
    if not stamp.exists() or stamp.stat().st_mtime < (ROOT / "pyproject.toml").stat().st_mtime:
        run(str(python), "-m", "pip", "install", "-q", "--upgrade", "pip")
        # torch first, pinned: a bare "torch" requirement could pull a multi-GB CUDA build
        run(str(python), "-m", "pip", "install", "-q", TORCH)
        run(str(python), "-m", "pip", "install", "-q", "-e", f".[{extras}]")
        stamp.touch()
    return python


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in ("lab", "test"):
        print(__doc__)
        return 2
    if argv[0] == "lab":
        python = setup("lab")
        run(str(python), "-m", "jupyter", "lab", "notebooks/", *argv[1:])
        return 0
    python = setup("test")
    return subprocess.call([str(python), "-m", "pytest", *argv[1:]], cwd=ROOT)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
