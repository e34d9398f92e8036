"""A2, a search strategy: :func:`check_strategy` and :func:`check_beats_random`.

The checks are :data:`STRATEGY_CHECKS` and :data:`BEATS_RANDOM_CHECKS`, small
named functions over a case (:class:`StrategyCase`, :class:`RaceCase`): to add a
check, write ``def my_check(case) -> (passed, message)`` and add a
:class:`~nasviz.course.report.Step` to the list.

Examples
--------
>>> import nasviz as nv
>>> [c.name for c in check_strategy(nv.strategies.RandomSearch, quiet=True).checks][:2]
['is a Strategy with its own generator rng_', 'ask() returns members of the space (40 asks)']
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np

from ..errors import InvalidArgumentError, check_positive_int
from .references import load_table
from .report import Prepare, Report, Step, call, display_name, run_checks
from .sandbox import Sandbox, leaves_global_state, rng_advice, sandbox

__all__ = ["BEATS_RANDOM_CHECKS", "STRATEGY_CHECKS", "RaceCase", "StrategyCase", "check_beats_random",
           "check_strategy"]


def _make(make_strategy, space, seed):
    return call(f"{display_name(make_strategy)}(space, seed={seed})", make_strategy, space, seed=seed)


def _drive(strategy, space, estimator, rounds: int, label: str) -> list:
    """Ask/tell ``rounds`` times with table scores; the asked architectures in order."""
    asked = []
    for k in range(rounds):
        arch = call(f"{label}.ask() (ask number {k + 1})", strategy.ask)
        asked.append(arch)
        if arch not in space:
            break
        result = estimator.evaluate(arch)
        call(f"{label}.tell({arch}, Result(score={result.score:.4f}))", strategy.tell, arch, result)
    return asked


def _run_search(search, desc: str):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return call(desc, search.run, progress=False)


# -- check_strategy -----------------------------------------------------------------------------
@dataclass
class StrategyCase:
    """What :func:`check_strategy` checks: strategies made by ``make_strategy``, told a table's scores."""

    report: Report
    make_strategy: object
    space: object
    est: object  # a Tabular estimator over the table
    box: Sandbox
    strategy: object = None  # made with seed 0
    asked: list = field(default_factory=list)  # its first 40 asks
    changed: list = field(default_factory=list)

    @property
    def name(self) -> str:
        return self.report.title

    def make(self, seed: int):
        return _make(self.make_strategy, self.space, seed)

    def random_advice(self, generators: str) -> str:
        return (f"{self.name} drew from {generators}: draw from self.rng_ (for example "
                "self.rng_.integers(n), space.sample(seed=self.rng_), space.mutate(a, seed=self.rng_))")


def make_first(c: StrategyCase) -> None:
    c.strategy = c.make(0)


def is_a_strategy(c: StrategyCase):
    from ..strategies.base import Strategy

    if not isinstance(c.strategy, Strategy):
        return False, (f"{c.name}(space, seed=0) made {c.strategy!r}; subclass nasviz.strategies.Strategy and "
                       "call super().__init__(space, seed=seed) first in __init__")
    if not isinstance(getattr(c.strategy, "rng_", None), np.random.Generator):
        return False, "strategy.rng_ is not a numpy Generator: call super().__init__(space, seed=seed)"
    return True, ""


def ask_forty(c: StrategyCase) -> None:
    c.box.mark()
    c.asked = _drive(c.strategy, c.space, c.est, 40, c.name)
    c.changed = c.box.changed()


def asks_members(c: StrategyCase):
    for k, a in enumerate(c.asked):
        if a not in c.space:
            return False, (f"ask number {k + 1} returned {a!r} ({type(a).__name__}), not a member of "
                           f"{c.space!r}: return architectures such as space.sample(seed=self.rng_) or "
                           "space.mutate(parent, seed=self.rng_)")
    return True, ""


def same_seed_same_asks(c: StrategyCase):
    first = _drive(c.make(3), c.space, c.est, 40, c.name)
    second = _drive(c.make(3), c.space, c.est, 40, c.name)
    for k, (a, b) in enumerate(zip(first, second)):
        if a != b:
            return False, rng_advice(f"two strategies made with seed=3 and told the same results asked "
                                     f"different cells at ask {k + 1}: {a} and {b}") + \
                " (self.rng_ is made for you by super().__init__)"
    return True, ""


def takes_a_failed_result(c: StrategyCase):
    from ..estimators.base import Result

    s = c.make(1)
    a = call(f"{c.name}.ask()", s.ask)
    call(f"{c.name}.tell(arch, Result.failed('out of memory'))", s.tell, a, Result.failed("out of memory"))
    _drive(s, c.space, c.est, 25, c.name)
    return True, ""


def takes_pending_asks(c: StrategyCase):
    s = c.make(2)
    for wave in range(3):
        batch = [call(f"{c.name}.ask() with {k} asks pending", s.ask) for k in range(8)]
        bad = [a for a in batch if a not in c.space]
        if bad:
            return False, f"with asks pending, ask() returned {bad[0]!r}, not a member of the space"
        if len(set(batch)) < 2:
            return False, (f"8 asks in a row (before any tell) all returned {batch[0]}: with asks pending, "
                           "propose different architectures (parallel workers would evaluate one cell "
                           "8 times)")
        order = [batch[i] for i in np.random.default_rng(wave).permutation(len(batch))]
        for a in order:  # tells in another order than the asks
            call(f"{c.name}.tell({a}, ...) told out of order", s.tell, a, c.est.evaluate(a))
    return True, ""


def runs_through_search(c: StrategyCase):
    from ..search import Search

    for workers, budget in ((1, 60), (4, 40)):
        search = Search(c.space, c.make(4), c.est, budget=budget, workers=workers)
        history = _run_search(search, f"nv.Search(space, {c.name}(space, seed=4), ..., workers={workers}).run()")
        if search.stopped_reason_ != "budget" or len(history) != budget:
            why = {"repeats": (f"it asked {search.max_repeats} already-evaluated cells in a row: remember "
                               "what you asked (and told) and propose cells not seen before"),
                   "finished": "the strategy said it was finished"}.get(search.stopped_reason_,
                                                                         str(search.stopped_reason_))
            return False, (f"with workers={workers} the search stopped after {len(history)} of {budget} "
                           f"evaluations: {why}")
    return True, ""


#: The steps of :func:`check_strategy`, in report order.
STRATEGY_CHECKS = (
    Prepare(make_first),
    Step("is a Strategy with its own generator rng_", is_a_strategy, on_failure="stop"),
    Prepare(ask_forty),
    Step("ask() returns members of the space (40 asks)", asks_members, on_failure="stop"),
    Step("same seed, same asks", same_seed_same_asks),
    Step("leaves global random state alone", leaves_global_state),
    Step("a failed result can be told", takes_a_failed_result),
    Step("several asks pending, told in any order", takes_pending_asks),
    Step("runs through nv.Search (1 and 4 workers)", runs_through_search),
)


def check_strategy(make_strategy, *, bench="nb201-12epoch", metric: str | None = None, quiet: bool = False) -> Report:
    """Check that a strategy keeps the ask/tell contract of :class:`nasviz.strategies.Strategy`.

    Checks: it is a ``Strategy`` built as ``make_strategy(space, seed=s)``; ``ask()``
    returns members of the space; the same seed gives the same asks for the same
    results; it draws only from its own generator ``rng_`` (global random state
    untouched); a failed result can be told; several asks may be pending and told
    in any order; and it runs through :class:`nasviz.Search`, sequentially and with
    4 workers, without getting stuck on repeats.

    Parameters
    ----------
    make_strategy : callable
        Usually the class: ``make_strategy(space, seed=s)`` returns a new strategy.
    bench, metric
        The table whose scores are told (default ``"nb201-12epoch"``, its default metric).
    quiet : bool
        Do not print the report.

    Examples
    --------
    >>> import nasviz as nv
    >>> report = check_strategy(nv.strategies.RandomSearch, quiet=True)
    >>> report.passed
    True
    """
    from ..estimators.tabular import Tabular

    bench, metric = load_table(bench, metric)
    with sandbox() as box:
        case = StrategyCase(Report(display_name(make_strategy)), make_strategy, bench.space,
                            Tabular(bench, metric=metric), box)
        return run_checks(case, STRATEGY_CHECKS, quiet=quiet)


# -- check_beats_random -------------------------------------------------------------------------
@dataclass
class RaceCase:
    """What :func:`check_beats_random` checks: ``budget`` evaluations per seed, the student's strategy vs random."""

    report: Report
    name: str  # the checked strategy's label
    labels: dict  # label -> make_strategy, the checked one first
    bench: object
    metric: str
    est: object
    optimum: float
    seeds: list
    budget: int
    margin: float
    plot: bool = False
    ax: object = None
    histories: dict = field(default_factory=dict)  # label -> list of History, one per seed
    stops: dict = field(default_factory=dict)  # label -> (seed, reason, evaluations) of the first early stop
    regret: dict = field(default_factory=dict)  # label -> final regret per seed

    @property
    def percent(self) -> float:
        return 100 * self.margin

    @property
    def n_seeds(self) -> int:
        return len(self.seeds)


def race(c: RaceCase) -> None:
    from ..search import Search

    c.histories = {label: [] for label in c.labels}
    for label, make in c.labels.items():
        for s in c.seeds:
            search = Search(c.bench.space, _make(make, c.bench.space, s), c.est, budget=c.budget)
            h = _run_search(search, f"nv.Search(space, {label}(space, seed={s}), ...).run()")
            c.histories[label].append(h)
            if search.stopped_reason_ != "budget":
                c.stops.setdefault(label, (s, search.stopped_reason_, len(h)))
    c.regret = {label: np.array([c.optimum - (h.best.score if h.best is not None else -np.inf) for h in hs])
                for label, hs in c.histories.items()}
    c.report.details.update(histories=c.histories, optimum=c.optimum, regret=c.regret, metric=c.metric)


def draw_regret_curves(c: RaceCase) -> None:
    """With ``plot``: mean regret curves (:func:`nasviz.compare`) on ``ax``, zoomed in on where strategies differ."""
    from ..comparison import compare

    if not c.plot:
        return
    optimum, budget = c.optimum, c.budget
    axes = compare(c.histories, optimum=optimum, ax=c.ax)
    axes.set_title(f"{c.metric} on {c.bench.name}: {len(c.seeds)} seeds x {budget} evaluations")
    start = max(1, budget // 10)  # after the first tenth of the budget
    curves = [optimum - np.maximum.accumulate([t.score if t.ok else -np.inf for t in h])[start - 1:]
              for hs in c.histories.values() for h in hs if len(h) >= start]
    if curves:
        top = max(float(np.mean([x[0] for x in curves])), 1e-6)
        axes.set_ylim(0, 1.5 * top)
    c.report.details["ax"] = axes


def spends_the_budget(c: RaceCase):
    if c.name in c.stops:
        s, why, n = c.stops[c.name]
        hint = ("it kept asking cells it had already seen: propose unseen ones" if why == "repeats"
                else f"it stopped: {why}")
        return False, f"with seed={s} the search ended after {n} of {c.budget} evaluations: {hint}"
    return True, ""


def beats_random(c: RaceCase):
    def pts(x):
        return f"{100 * x:.2f}"

    mine, rand = c.regret[c.name], c.regret["RandomSearch"]
    bar = (1 - c.margin) * float(rand.mean())
    sem = float(mine.std(ddof=1) / math.sqrt(len(mine))) if len(mine) > 1 else 0.0
    wins = int(np.sum(mine < rand))
    ties = int(np.sum(mine == rand))
    text = (f"mean regret {pts(mine.mean())} ± {pts(sem)} percentage points of {c.metric} (random search: "
            f"{pts(rand.mean())}; needed at most {pts(bar)}, {c.percent:.0f}% lower); better than random "
            f"on {wins} of {len(c.seeds)} seeds" + (f", tied on {ties}" if ties else ""))
    if mine.mean() <= bar:
        return True, text
    return False, (text + ". Use what the tells teach you: e.g. mutate the best cells found so far "
                   "instead of sampling blindly")


#: The steps of :func:`check_beats_random`, in report order (the race and its plot come first).
BEATS_RANDOM_CHECKS = (
    Prepare(race),
    Prepare(draw_regret_curves),
    Step("spends the whole budget ({c.budget} evaluations) on every seed", spends_the_budget),
    Step("beats random search by {c.percent:.0f}% on mean regret ({c.n_seeds} seeds)", beats_random),
)


def check_beats_random(make_strategy, *, bench="nb201-12epoch", metric: str | None = None,
                       seeds: Iterable[int] = range(20), budget: int = 100, margin: float = 0.25,
                       plot: bool = False, ax=None, quiet: bool = False) -> Report:
    """Check that a strategy beats random search on a table, by mean regret over fixed seeds.

    For each seed ``s``, ``make_strategy(space, seed=s)`` and
    ``RandomSearch(space, seed=s)`` each run ``budget`` evaluations through
    :class:`nasviz.Search` on the table's ``metric``. The regret of a run is the
    table's optimum minus the best score it found. The check passes when the mean
    regret is at most ``(1 - margin)`` times random search's.

    Parameters
    ----------
    make_strategy : callable
        ``make_strategy(space, seed=s)``, usually the strategy's class.
    bench, metric
        The table (default ``"nb201-12epoch"``) and its metric (default: the table's).
    seeds : iterable of int
    budget : int
        Evaluations per run.
    margin : float
        The required improvement, as a fraction of random search's mean regret.
    plot : bool
        Draw the mean regret curves (:func:`nasviz.compare`) on ``ax`` (default: the
        current Axes), also when the check fails.
    quiet : bool
        Do not print the report.

    Returns
    -------
    Report
        ``details``: ``histories`` (label -> list of History), ``optimum``, ``regret``
        (label -> per-seed final regrets), ``ax`` when plotted.

    Examples
    --------
    >>> import nasviz as nv
    >>> r = check_beats_random(nv.strategies.RegularizedEvolution, seeds=range(5), quiet=True)
    >>> r.passed, sorted(r.details["regret"])
    (True, ['RandomSearch', 'RegularizedEvolution'])
    """
    from ..estimators.tabular import Tabular
    from ..strategies import RandomSearch

    if not 0 <= margin < 1:
        raise InvalidArgumentError(f"margin must be in [0, 1), got {margin!r}")
    check_positive_int("budget", budget)
    seeds = [int(s) for s in seeds]
    if not seeds:
        raise InvalidArgumentError("seeds must hold at least one seed, e.g. range(20)")
    bench, metric = load_table(bench, metric)
    name = display_name(make_strategy)
    if name == "RandomSearch":  # the strategy under test keeps a label of its own
        name = "RandomSearch (checked)"
    labels = {name: make_strategy, "RandomSearch": RandomSearch}  # the checked one first: unsolved stops at once
    case = RaceCase(Report(f"{name} vs random search"), name, labels, bench, metric, Tabular(bench, metric=metric),
                    float(bench.optimum(metric)[1]), seeds, budget, margin, plot, ax)
    with sandbox():
        return run_checks(case, BEATS_RANDOM_CHECKS, quiet=quiet)
