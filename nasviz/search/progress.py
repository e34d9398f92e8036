"""What a search shows and shields while it runs: its progress bar and a Ctrl-C guard."""

from __future__ import annotations

import signal
import threading

__all__ = ["DeferSigint", "NoBar", "progress_bar"]


class DeferSigint:
    """Holds Ctrl-C back while the strategy and the journal are updated together.

    Only in the main thread and only where Python's default handler is installed; a
    Ctrl-C that arrives meanwhile is raised as ``KeyboardInterrupt`` on exit.
    """

    def __enter__(self):
        self.active = (threading.current_thread() is threading.main_thread()
                       and signal.getsignal(signal.SIGINT) is signal.default_int_handler)
        self.caught = False
        if self.active:
            signal.signal(signal.SIGINT, self._handler)
        return self

    def _handler(self, signum, frame):
        self.caught = True

    def __exit__(self, exc_type, exc, tb):
        if self.active:
            signal.signal(signal.SIGINT, signal.default_int_handler)
            if self.caught and exc_type is None:
                raise KeyboardInterrupt
        return False


class NoBar:
    """A progress bar that shows nothing."""

    def update(self, n=1):
        pass

    def set_postfix(self, *args, **kwargs):
        pass

    def close(self):
        pass


def progress_bar(budget, budget_kind: str, *, spent: float = 0.0, done: int = 0, best: float | None = None):
    """A ``tqdm`` bar over the budget (seconds of cost, or evaluations), started where a run stands."""
    from tqdm.auto import tqdm

    if budget_kind == "cost":
        bar = tqdm(total=float(budget), initial=min(spent, float(budget)), unit="s", desc="search (cost)")
    else:
        bar = tqdm(total=int(budget), initial=done, unit="eval", desc="search")
    if best is not None:
        bar.set_postfix(best=f"{best:.4g}")
    return bar
