#!/usr/bin/env python3
"""Strip noise from committed notebooks: widget state, execution timing and kernel metadata.

    python tools/strip_notebooks.py notebooks/*.ipynb notebooks/assignments/*.ipynb

Outputs are kept (nbval compares them); widget views keep their text fallback only,
since widget state changes on every run and nbval never compares it.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"


def strip(nb: dict) -> dict:
    nb.get("metadata", {}).pop("widgets", None)
    nb["metadata"].get("kernelspec", {}).update(display_name="Python 3", name="python3")
    nb["metadata"].pop("language_info", None)
    for cell in nb.get("cells", []):
        cell.get("metadata", {}).pop("execution", None)
        cell.get("metadata", {}).pop("ExecuteTime", None)
        for out in cell.get("outputs", []):
            data = out.get("data")
            if data and WIDGET_VIEW in data:
                data.pop(WIDGET_VIEW)
    return nb


def main(paths: list[str]) -> int:
    for p in paths:
        path = Path(p)
        nb = json.loads(path.read_text())
        path.write_text(json.dumps(strip(nb), indent=1, ensure_ascii=False) + "\n")
        print(f"stripped {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
