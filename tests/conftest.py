"""Shared test set-up: a non-interactive matplotlib backend for this process only, and the
fixtures of the training tests.

(Not through the MPLBACKEND environment variable: notebook kernels started by nbval
inherit the environment and must keep their inline backend.)
"""

import matplotlib
import pytest

import nasviz as nv

matplotlib.use("Agg")


@pytest.fixture(scope="module")
def one_thread():
    """Torch on one thread for a module: tiny networks train fastest so, and the same
    seed gives the same score only at the same thread count."""
    torch = pytest.importorskip("torch")
    old = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(old)


@pytest.fixture(scope="module")
def data():
    """Digits at 4x4 pixels, half the training images: enough to train on in a second."""
    return nv.data.digits(resolution=4, subset=0.5)


@pytest.fixture(scope="module")
def space():
    return nv.CellSpace()

# the browser demo notebook is driven by tests/browser, not compared by nbval
collect_ignore_glob = ["browser/*.ipynb"]
