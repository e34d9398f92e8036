"""Shared test set-up: a non-interactive matplotlib backend for this process only.

(Not through the MPLBACKEND environment variable: notebook kernels started by nbval
inherit the environment and must keep their inline backend.)
"""

import matplotlib

matplotlib.use("Agg")

# the browser demo notebook is driven by tests/browser, not compared by nbval
collect_ignore_glob = ["browser/*.ipynb"]
