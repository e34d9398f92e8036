"""A2, a search strategy: :func:`check_strategy` and :func:`check_beats_random`.

The checks are :data:`STRATEGY_CHECKS` and :data:`BEATS_RANDOM_CHECKS`, small
named functions over a case (:class:`StrategyCase`, :class:`RaceCase`): to add a
check, write ``def my_check(case) -> (passed, message)`` and add a
:class:`~nasviz.course.report.Step` to the list.

Examples
--------
>>> import nasviz as nv
>>> [c.name for c in check_strategy(nv.strategies.RandomSearch, allow_builtin=True, quiet=True).checks][:2]
['is a Strategy with its own generator rng_', 'is a strategy of its own (neither a built-in nor a wrapper of one)']
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
from .sandbox import CallWatch, Sandbox, leaves_global_state, rng_advice, sandbox

__all__ = ["BEATS_RANDOM_CHECKS", "PASS_MARGIN", "STRATEGY_CHECKS", "BuiltinCalls", "RaceCase", "StrategyCase",
           "builtin_attribute", "builtin_strategies", "builtin_use", "check_beats_random", "check_strategy"]


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


# -- a strategy of the student's own ------------------------------------------------------------
def builtin_strategies() -> tuple[type, ...]:
    """The search strategies that ship with nasviz: every ``Strategy`` subclass ``nasviz.strategies`` exports.

    ``Strategy`` itself is not one, nor the bookkeeping base that all the built-ins share (see
    :func:`shared_bases`): subclassing those is how a strategy of one's own is written.

    Examples
    --------
    >>> [cls.__name__ for cls in builtin_strategies()][:3]
    ['MCTS', 'REINFORCE', 'BayesianOptimization']
    """
    import inspect

    from .. import strategies
    from ..strategies.base import Strategy

    found = [getattr(strategies, n) for n in strategies.__all__]
    return tuple(c for c in found if inspect.isclass(c) and issubclass(c, Strategy) and c is not Strategy)


def shared_bases() -> frozenset:
    """The classes every built-in strategy derives from (``Strategy``, its bookkeeping base, ``object``...).

    They hold the ask/tell bookkeeping, not a search: a student's strategy may derive from them.
    """
    mros = [set(cls.__mro__) for cls in builtin_strategies()]
    return frozenset(set.intersection(*mros))


def builtin_code() -> dict:
    """``code object -> "Class.method"`` for every function of a built-in strategy's own classes.

    The classes are those of the built-ins' method resolution orders, less :func:`shared_bases`:
    running any of these functions means running a built-in search.
    """
    shared, code = shared_bases(), {}
    for cls in builtin_strategies():
        for k in cls.__mro__:
            if k in shared:
                continue
            for attr, fn in vars(k).items():
                fn = getattr(fn, "__func__", fn)  # staticmethod, classmethod
                if hasattr(fn, "__code__"):
                    code.setdefault(fn.__code__, f"{k.__name__}.{attr}")
    return code


def builtin_base(cls) -> type | None:
    """The first built-in strategy in ``cls``'s method resolution order (``cls`` itself included), or ``None``."""
    builtins = builtin_strategies()
    for k in getattr(cls, "__mro__", ()):
        if k in builtins:
            return k
    return None


def _is_library(cls) -> bool:
    """Whether ``cls`` comes with Python, numpy, torch or nasviz (whose insides are not the student's state)."""
    top = (getattr(cls, "__module__", "") or "").split(".")[0]
    return top in ("builtins", "numpy", "torch", "nasviz", "collections", "functools", "itertools", "random")


def _builtin_inside(obj, path: str, seen: set, depth: int = 0):
    """``(path, object)`` of the first built-in strategy among ``obj``'s attributes, items and values, or ``None``."""
    builtins = builtin_strategies()
    if id(obj) in seen or depth > 4:
        return None
    seen.add(id(obj))
    if depth and isinstance(obj, builtins):
        return path, obj
    if isinstance(obj, dict):
        children = [(f"{path}[{k!r}]", v) for k, v in obj.items()]
    elif isinstance(obj, (list, tuple, set, frozenset)):
        children = [(f"{path}[{k}]", v) for k, v in enumerate(obj)]
    elif hasattr(obj, "__dict__") and not isinstance(obj, type) and not _is_library(type(obj)):
        children = [(f"{path}.{k}", v) for k, v in vars(obj).items()]
        children += [(f"{path}.{k}", getattr(obj, k)) for k in getattr(type(obj), "__slots__", ()) if hasattr(obj, k)]
    else:
        return None
    for p, v in children:
        if isinstance(v, (str, bytes, int, float, np.ndarray, np.random.Generator)):
            continue
        hit = _builtin_inside(v, p, seen, depth + 1)
        if hit is not None:
            return hit
    return None


def builtin_attribute(strategy):
    """``(path, object)`` of a built-in strategy held by ``strategy`` (``"self.inner"``, ``"self.pool[0]"``...), or ``None``.

    Looks through the instance's attributes, and into the lists, tuples, sets, dicts and
    plain objects among them, four levels deep.
    """
    return _builtin_inside(strategy, "self", set())


class BuiltinCalls(CallWatch):
    """Records which functions of built-in strategies (:func:`builtin_code`) run while it is active.

    ``with BuiltinCalls() as calls:`` ... ``calls.names``. A :class:`~nasviz.course.sandbox.CallWatch`:
    unlike a look at the attributes it also sees a built-in search kept in a closure, a
    global or a module.
    """

    def __init__(self):
        super().__init__(builtin_code())


_OWN_ADVICE = ("subclass nasviz.strategies.Strategy and write the search in your own ask() and tell(); "
               "space.sample, space.mutate and space.neighbors (with seed=self.rng_) are yours to use")


def builtin_use(name: str, make_strategy, strategy, calls) -> str:
    """Why the strategy ``strategy`` (made by ``make_strategy``) is a built-in search, or ``""`` when it is its own.

    Three ways are seen: its class is or subclasses a built-in strategy; it holds a
    built-in strategy among its attributes (:func:`builtin_attribute`); functions of a
    built-in strategy ran during its asks and tells (``calls``, :class:`BuiltinCalls`).
    """
    base = builtin_base(type(strategy))
    if base is not None:
        if type(strategy) is base:
            what = (f"{name}(space, seed=0) made nasviz's built-in {base.__name__}" if make_strategy is not base
                    else f"{name} is nasviz's built-in {base.__name__}")
        else:
            what = (f"{type(strategy).__name__} subclasses {base.__name__}, one of nasviz's built-in strategies, "
                    f"so its search is {base.__name__}'s")
        return f"{what}: {_OWN_ADVICE}"
    hit = builtin_attribute(strategy)
    if hit is not None:
        path, inner = hit
        return (f"{name} keeps a built-in {type(inner).__name__} in {path}: a strategy that hands its asks or "
                f"tells to a built-in one runs that built-in's search; {_OWN_ADVICE}")
    if calls:
        return (f"while {name} asked and was told, built-in strategy code ran ({', '.join(calls[:3])}): a "
                f"strategy that hands its asks or tells to a built-in one runs that built-in's search; {_OWN_ADVICE}")
    return ""


# -- check_strategy -----------------------------------------------------------------------------
@dataclass
class StrategyCase:
    """What :func:`check_strategy` checks: strategies made by ``make_strategy``, told a table's scores."""

    report: Report
    make_strategy: object
    space: object
    est: object  # a Tabular estimator over the table
    box: Sandbox
    allow_builtin: bool = False
    strategy: object = None  # made with seed 0
    asked: list = field(default_factory=list)  # its first 40 asks
    calls: list = field(default_factory=list)  # built-in strategy code that ran during them (BuiltinCalls)
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
    with BuiltinCalls() as calls:
        c.asked = _drive(c.strategy, c.space, c.est, 40, c.name)
    c.calls = calls.names
    c.changed = c.box.changed()


def is_its_own(c: StrategyCase):
    if c.allow_builtin:
        return True, "not checked (allow_builtin=True)"
    why = builtin_use(c.name, c.make_strategy, c.strategy, c.calls)
    return (False, why) if why else (True, "")


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
    Step("is a strategy of its own (neither a built-in nor a wrapper of one)", is_its_own, on_failure="stop"),
    Step("ask() returns members of the space (40 asks)", asks_members, on_failure="stop"),
    Step("same seed, same asks", same_seed_same_asks),
    Step("leaves global random state alone", leaves_global_state),
    Step("a failed result can be told", takes_a_failed_result),
    Step("several asks pending, told in any order", takes_pending_asks),
    Step("runs through nv.Search (1 and 4 workers)", runs_through_search),
)


def check_strategy(make_strategy, *, bench="nb201-12epoch", metric: str | None = None, allow_builtin: bool = False,
                   quiet: bool = False) -> Report:
    """Check that a strategy keeps the ask/tell contract of :class:`nasviz.strategies.Strategy`.

    Checks: it is a ``Strategy`` built as ``make_strategy(space, seed=s)``; ``ask()``
    returns members of the space; the same seed gives the same asks for the same
    results; it draws only from its own generator ``rng_`` (global random state
    untouched); a failed result can be told; several asks may be pending and told
    in any order; and it runs through :class:`nasviz.Search`, sequentially and with
    4 workers, without getting stuck on repeats. And, unless ``allow_builtin``, that
    it is a search of its own (:func:`builtin_use`): neither one of nasviz's built-in
    strategies (:func:`builtin_strategies`), nor a subclass of one, nor a strategy
    that holds one among its attributes or runs a built-in's code during its first 40
    asks and tells (seen by :class:`BuiltinCalls`).

    Parameters
    ----------
    make_strategy : callable
        Usually the class: ``make_strategy(space, seed=s)`` returns a new strategy.
    bench, metric
        The table whose scores are told (default ``"nb201-12epoch"``, its default metric).
    allow_builtin : bool
        Accept nasviz's own strategies (to try the checks on them); an assignment keeps
        the default, ``False``.
    quiet : bool
        Do not print the report.

    Examples
    --------
    >>> import nasviz as nv
    >>> report = check_strategy(nv.strategies.RandomSearch, allow_builtin=True, quiet=True)
    >>> report.passed
    True
    >>> from nasviz.course import CheckFailed
    >>> class Mine(nv.strategies.LocalSearch):
    ...     pass
    >>> try:
    ...     check_strategy(Mine, quiet=True)
    ... except CheckFailed as err:
    ...     print(err.report.failures[0].message[:75])
    Mine subclasses LocalSearch, one of nasviz's built-in strategies, so its se
    """
    from ..estimators.tabular import Tabular

    bench, metric = load_table(bench, metric)
    with sandbox() as box:
        case = StrategyCase(Report(display_name(make_strategy)), make_strategy, bench.space,
                            Tabular(bench, metric=metric), box, allow_builtin)
        return run_checks(case, STRATEGY_CHECKS, quiet=quiet)


# -- check_beats_random -------------------------------------------------------------------------
#: The pass mark of :func:`check_beats_random`: a mean final regret at least this fraction lower than random
#: search's, i.e. at most 40% of it, which is about what nasviz's built-in strategies reach. Measured under the
#: check's protocol (``nv.Search(space, strategy, Tabular(bench, metric), budget=100)``, one run per seed,
#: regret = the table's optimum minus the best score found), mean regret in percentage points (standard error):
#:
#: =================  ==========  ===========  ===========  ===========  ==============
#: metric, seeds      random      evolution    local        reference    bar (40% of
#:                                                                       random's)
#: =================  ==========  ===========  ===========  ===========  ==============
#: cifar10, 0-19      1.25 (.11)  0.30 (.07)   0.31 (.16)   0.27 (.07)   0.50
#: cifar100, 100-119  2.46 (.27)  0.59 (.17)   0.47 (.17)   0.64 (.18)   0.99
#: imagenet16,        2.91 (.22)  1.05 (.20)   0.86 (.20)   0.97 (.13)   1.16
#: 100-119
#: =================  ==========  ===========  ===========  ===========  ==============
#:
#: (``evolution`` is ``RegularizedEvolution``, ``local`` ``LocalSearch``, both with their defaults; ``reference`` is
#: the A2 notebook's solution: mutate one of the five best cells after ten random ones.) The built-ins reach 19-36%
#: of random search's regret, the reference 22-33%; a bar at 40% asks for a search about as good as theirs. The
#: earlier bar, 25% below random (0.93 points on CIFAR-10), was three times what they reach.
PASS_MARGIN = 0.6
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
    allow_builtin: bool = False
    histories: dict = field(default_factory=dict)  # label -> list of History, one per seed
    stops: dict = field(default_factory=dict)  # label -> (seed, reason, evaluations) of the first early stop
    regret: dict = field(default_factory=dict)  # label -> final regret per seed

    @property
    def percent(self) -> float:
        return 100 * self.margin

    @property
    def n_seeds(self) -> int:
        return len(self.seeds)


def is_its_own_in_race(c: RaceCase):
    """Before the race: 30 asks and tells of ``make_strategy(space, seed=first seed)``, watched by :class:`BuiltinCalls`."""
    if c.allow_builtin:
        return True, "not checked (allow_builtin=True)"
    make = c.labels[c.name]
    strategy = _make(make, c.bench.space, c.seeds[0])
    with BuiltinCalls() as calls:
        _drive(strategy, c.bench.space, c.est, 30, c.name)
    why = builtin_use(c.name, make, strategy, calls.names)
    return (False, why) if why else (True, "")


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


#: The steps of :func:`check_beats_random`, in report order (the race and its plot come after the first).
BEATS_RANDOM_CHECKS = (
    Step("is a strategy of its own (neither a built-in nor a wrapper of one)", is_its_own_in_race, on_failure="stop"),
    Prepare(race),
    Prepare(draw_regret_curves),
    Step("spends the whole budget ({c.budget} evaluations) on every seed", spends_the_budget),
    Step("beats random search by {c.percent:.0f}% on mean regret ({c.n_seeds} seeds)", beats_random),
)


def check_beats_random(make_strategy, *, bench="nb201-12epoch", metric: str | None = None,
                       seeds: Iterable[int] = range(20), budget: int = 100, margin: float = PASS_MARGIN,
                       plot: bool = False, ax=None, allow_builtin: bool = False, quiet: bool = False) -> Report:
    """Check that a strategy beats random search on a table, by mean regret over fixed seeds.

    For each seed ``s``, ``make_strategy(space, seed=s)`` and
    ``RandomSearch(space, seed=s)`` each run ``budget`` evaluations through
    :class:`nasviz.Search` on the table's ``metric``. The regret of a run is the
    table's optimum minus the best score it found. The check passes when the mean
    regret is at most ``(1 - margin)`` times random search's: by default
    (:data:`PASS_MARGIN`) 40% of it, about what nasviz's built-in strategies reach.
    Before the race, unless ``allow_builtin``, 30 asks and tells check that the
    strategy is a search of its own, as in :func:`check_strategy`.

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
        The required improvement, as a fraction of random search's mean regret
        (default :data:`PASS_MARGIN`, whose comment holds the measured figures).
    plot : bool
        Draw the mean regret curves (:func:`nasviz.compare`) on ``ax`` (default: the
        current Axes), also when the check fails.
    allow_builtin : bool
        Accept nasviz's own strategies (to try the check on them); an assignment keeps
        the default, ``False``.
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
    >>> r = check_beats_random(nv.strategies.RegularizedEvolution, seeds=range(5), allow_builtin=True, quiet=True)
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
                    float(bench.optimum(metric)[1]), seeds, budget, margin, plot, ax, allow_builtin)
    with sandbox():
        return run_checks(case, BEATS_RANDOM_CHECKS, quiet=quiet)
