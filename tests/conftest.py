"""Shared test set-up: a non-interactive matplotlib backend and small thread counts."""

import os

os.environ.setdefault("MPLBACKEND", "Agg")

# the browser demo notebook is driven by tests/browser, not compared by nbval
collect_ignore_glob = ["browser/*.ipynb"]
