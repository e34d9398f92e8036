"""Shared test set-up: a non-interactive matplotlib backend and small thread counts."""

import os

os.environ.setdefault("MPLBACKEND", "Agg")
