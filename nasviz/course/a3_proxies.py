"""A3, a zero-cost proxy: :func:`check_proxy_function` and :func:`check_proxy`.

A proxy is judged by its Spearman rank correlation with a reference ranking
(:func:`proxy_reference`, one of :data:`REFERENCES`) on a fixed sample of cells
(:func:`proxy_sample`). The checks are :data:`PROXY_FUNCTION_CHECKS` and
:data:`PROXY_CHECKS`, small named functions over a case (:class:`ProbeCase`,
:class:`ProxyCase`): to add a check, write ``def my_check(case) -> (passed,
message)`` and add a :class:`~nasviz.course.report.Step` to the list.

Examples
--------
>>> spearman([1, 2, 3], [10, 30, 20])
0.5
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from ..errors import InvalidArgumentError
from .references import REFERENCES, probe_networks, proxy_data, proxy_reference, proxy_reference_name, proxy_sample
from .report import Prepare, Report, Step, call, display_name, run_checks
from .sandbox import Sandbox, leaves_global_state, sandbox

__all__ = [
    "PARAMS_MARGIN",
    "PROXY_CHECKS",
    "PROXY_FUNCTION_CHECKS",
    "REFERENCES",
    "ProbeCase",
    "ProxyCase",
    "check_proxy",
    "check_proxy_function",
    "proxy_data",
    "proxy_reference",
    "proxy_reference_name",
    "proxy_sample",
    "spearman",
]


def spearman(a, b) -> float:
    """Spearman's rank correlation of ``a`` and ``b``; ``nan`` when either is constant."""
    from scipy.stats import spearmanr

    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if np.all(a == a[0]) or np.all(b == b[0]):
        return math.nan
    return float(spearmanr(a, b)[0])


def _as_float(v):
    try:
        return float(v)
    except (TypeError, ValueError, RuntimeError):
        return None


# -- check_proxy_function -----------------------------------------------------------------------
@dataclass
class ProbeCase:
    """What :func:`check_proxy_function` checks: ``fn``'s scores of the networks of
    :func:`~nasviz.course.references.probe_networks`."""

    report: Report
    fn: object
    data: object
    box: Sandbox
    cells: list = field(default_factory=list)  # three connected cells, then a disconnected one
    inputs: object = None  # the minibatch fn was given
    targets: object = None
    copies: tuple = ()  # copies of inputs and targets, made before fn saw them
    values: dict = field(default_factory=dict)  # cell -> fn's score
    repeat: object = None  # the first cell's score, a second time
    changed: list = field(default_factory=list)

    @property
    def name(self) -> str:
        return self.report.title

    def random_advice(self, generators: str) -> str:
        return (f"{self.name} changed {generators}; if you need random numbers, use "
                "g = torch.Generator().manual_seed(0) and torch.randn(..., generator=g)")


def score_probe_networks(c: ProbeCase) -> None:
    cells, build, x, y = probe_networks(c.data if c.data is not None else proxy_data("auto"))
    c.cells, c.inputs, c.targets, c.copies = cells, x, y, (x.clone(), y.clone())
    c.box.mark()
    for arch in cells:
        c.values[arch] = call(f"{c.name}(net of {arch}, inputs, targets)", c.fn, build(arch), x, y)
    c.repeat = call(f"{c.name}(net of {cells[0]}, inputs, targets)", c.fn, build(cells[0]), x, y)
    c.changed = c.box.changed()


def _finite(c: ProbeCase, group, label: str, hint: str):
    for arch in group:
        v = _as_float(c.values[arch])
        if v is None:
            return False, (f"{c.name}(...) returned {c.values[arch]!r} ({type(c.values[arch]).__name__}) for "
                           f"{arch}; return one number, e.g. float(score)")
        if not math.isfinite(v):
            return False, f"{c.name}(...) returned {v} for {label} {arch}; {hint}"
    return True, ""


def finite_for_connected(c: ProbeCase):
    return _finite(c, c.cells[:3], "the connected cell", "return a finite number")


def finite_for_disconnected(c: ProbeCase):
    return _finite(c, c.cells[3:], "the disconnected cell",
                   "its output ignores the input, so e.g. a log-determinant is -inf or a correlation is nan: "
                   "return a low finite value (a floor) instead, so that such cells rank last")


def disconnected_ranks_last(c: ProbeCase):
    dead = c.cells[3]
    low, live = _as_float(c.values[dead]), [_as_float(c.values[a]) for a in c.cells[:3]]
    if low is None or any(v is None for v in live):
        return False, "skipped: the scores are not numbers"
    if low > min(live):
        return False, (f"{c.name} scored the disconnected cell {dead} {low:.4g}, above the connected cell "
                       f"{c.cells[live.index(min(live))]} ({min(live):.4g}): a network whose output ignores the "
                       "input must rank last. Detect it (e.g. the output is the same for every image: "
                       "torch.allclose(out, out[:1].expand_as(out))) and return a floor below every connected "
                       "cell's score")
    return True, ""


def same_network_same_score(c: ProbeCase):
    a, b = _as_float(c.values[c.cells[0]]), _as_float(c.repeat)
    if a is None or b is None or not (a == b or math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12)):
        return False, (f"two networks built alike for {c.cells[0]} scored {a} and {b}: make the score depend "
                       "only on the network and the minibatch (seed any randomness you use with a "
                       "torch.Generator)")
    return True, ""


def leaves_minibatch(c: ProbeCase):
    import torch

    x0, y0 = c.copies
    if not (torch.equal(c.inputs, x0) and torch.equal(c.targets, y0)):
        return False, f"{c.name} changed the minibatch in place; work on a copy (inputs.clone())"
    return True, ""


def tells_cells_apart(c: ProbeCase):
    connected = c.cells[:3]
    vs = [_as_float(c.values[a]) for a in connected]
    if len(set(vs)) == 1:
        return False, (f"{c.name} gave the same score {vs[0]} to 3 different cells ({', '.join(map(str, connected))}); "
                       "a proxy has to tell architectures apart")
    return True, ""


#: The steps of :func:`check_proxy_function`, in report order.
PROXY_FUNCTION_CHECKS = (
    Prepare(score_probe_networks),
    Step("returns a finite number (3 connected cells)", finite_for_connected, on_failure="stop"),
    Step("returns a finite number for a disconnected cell", finite_for_disconnected),
    Step("scores the disconnected cell at or below the 3 connected ones", disconnected_ranks_last,
         needs=(finite_for_disconnected,)),
    Step("same network and minibatch, same score", same_network_same_score),
    Step("leaves the minibatch unchanged", leaves_minibatch),
    Step("tells different cells apart", tells_cells_apart),
    Step("leaves global random state alone", leaves_global_state),
)


def check_proxy_function(fn, data=None, *, quiet: bool = False) -> Report:
    """Check a proxy function ``fn(net, inputs, targets) -> float`` on a few networks.

    ``net`` is a freshly built, untrained ``torch.nn.Module`` (a CellSpace network),
    ``inputs`` a minibatch of images and ``targets`` their labels. Checks: a finite
    number for connected cells and for a disconnected one (whose output ignores its
    input), and for the disconnected one no more than for any connected one (it ranks
    last), the same number for the same network and minibatch, the minibatch left
    unchanged, different numbers for different cells, and global random state
    (Python, numpy, torch) untouched.

    Parameters
    ----------
    fn : callable
    data : nasviz.data.Data, optional
        Default: the data of the ``"auto"`` reference of :func:`check_proxy`.
    quiet : bool
        Do not print the report.

    Examples
    --------
    >>> def n_weights(net, inputs, targets):
    ...     return float(sum(p.numel() for p in net.parameters()))
    >>> check_proxy_function(n_weights, quiet=True).passed
    True
    """
    with sandbox(torch=True) as box:
        return run_checks(ProbeCase(Report(display_name(fn)), fn, data, box), PROXY_FUNCTION_CHECKS, quiet=quiet)


# -- check_proxy --------------------------------------------------------------------------------
#: How far above the parameter count's Spearman rho a proxy must rank the cells in :func:`check_proxy`. A network's
#: size already ranks digits201's cells better than most published zero-cost proxies do, so a proxy has to beat it
#: to be worth its cost; ``params`` and ``flops`` themselves (the same ranking on these cells) fail by construction.
#: Measured on :func:`proxy_sample` ``(256, seed)`` against digits201's validation accuracy (mean of its 3 seeds),
#: ``ZeroCost(name, digits(resolution=8), batch_size=32, channels=8, seed=0)``, Spearman rho, seed 0 / seed 1:
#:
#: ==========================  ===========  ===========
#: proxy                        seed 0       seed 1
#: ==========================  ===========  ===========
#: params (= flops)              0.342        0.282
#: random (crc32 of the cell)   -0.066        0.018
#: random (rng seed 0)           0.094       -0.045
#: synflow                       0.327        0.333
#: naswot                        0.127       -0.017
#: jacob_cov                     0.352        0.173
#: snip                         -0.002        0.118
#: meco                          0.479        0.425
#: A3's reference solution       0.442        0.413
#: ==========================  ===========  ===========
#:
#: With a margin of 0.05 the reference (a MeCo) passes by 0.05 and 0.08 beyond it; params, flops, random scores,
#: synflow, naswot, jacob_cov and snip fail. On 64 cells the same figures move by about +-0.12 (the reference beat
#: params there by only 0.02 on seed 0), which is why the sample holds 256 cells.
PARAMS_MARGIN = 0.05


def _disconnected_cells(archs) -> list:
    """Disconnected cells a proxy must rank last: the hand-picked ones of A1, then those of the sample ``archs``."""
    from ..spaces import CellSpace
    from .references import HAND_PICKED, MORE_HAND_PICKED

    space = CellSpace()
    cells = [space.from_ops(ops) for ops in HAND_PICKED + MORE_HAND_PICKED]
    return [a for a in cells if not space.is_connected(a)] + [a for a in archs if not space.is_connected(a)]
@dataclass
class ProxyCase:
    """What :func:`check_proxy` checks: the estimator ``make_estimator(data)`` on a sample, against a reference."""

    report: Report
    make_estimator: object
    archs: list  # the sample
    reference: str  # its name, resolved
    threshold: float
    baselines: Sequence  # ZeroCost proxy names
    plot: bool
    ax: object
    box: Sandbox
    margin: float | None = PARAMS_MARGIN  # above the params proxy's rho; None: not required
    data: object = None
    est: object = None
    probe: object = None  # the first cell's result, then the same again
    again: object = None
    dead: object = None  # the result of a disconnected cell
    dead_cells: list = field(default_factory=list)  # disconnected cells that must rank last
    dead_scores: object = None  # their scores (nan where not ok)
    changed: list = field(default_factory=list)
    scores: object = None  # evaluate_many of the sample (nan where not ok)
    results: list = field(default_factory=list)
    truth: object = None
    rho: float = math.nan
    base: dict = field(default_factory=dict)  # baseline -> its rho
    params_rho: float = math.nan  # the parameter count's rho on the same cells

    @property
    def name(self) -> str:
        return self.report.title

    @property
    def n_archs(self) -> int:
        return len(self.archs)

    @property
    def n_dead(self) -> int:
        return len(self.dead_cells)

    @property
    def bar(self) -> str:
        """The correlation step's label: what rho must reach."""
        if self.margin is None:
            return f"Spearman rho >= {self.threshold:.2f}"
        return f"Spearman rho >= {self.threshold:.2f} and >= params' + {self.margin:.2f}"

    def random_advice(self, generators: str) -> str:
        return (f"evaluate changed {generators}: build inside torch.random.fork_rng() "
                "after torch.manual_seed(seed), and use a torch.Generator for the minibatch")


def _disconnected():
    from ..spaces import CellSpace

    return CellSpace().from_ops(("none",) * 6)


def make_the_estimator(c: ProxyCase):
    from ..estimators.base import Estimator

    c.data = proxy_data(c.reference)
    c.est = call(f"{c.name}(data)", c.make_estimator, c.data)
    if not isinstance(c.est, Estimator):
        c.report.add("is an Estimator", False, f"{c.name}(data) made {c.est!r}; subclass "
                     "nasviz.estimators.base.Estimator and implement _evaluate(arch, parent=None, fidelity=None)")
        return False
    return True


def score_the_sample(c: ProxyCase):
    """A quick probe first (an unsolved notebook stops here, before any training), then the whole sample."""
    from ..estimators.base import Result

    c.box.mark()
    c.probe = c.est.evaluate(c.archs[0])
    if c.probe.status != "ok" and str(c.probe.error).startswith("NotImplementedError"):
        text = c.probe.error.split(": ", 1)[1] if ": " in c.probe.error else ""
        c.report.not_solved = (f"{text}, then run this check again" if text.startswith("not solved yet")
                               else f"not solved yet: {c.name}.evaluate raised {c.probe.error}")
        return False
    c.again = c.est.evaluate(c.archs[0])
    c.dead = c.est.evaluate(_disconnected())
    c.changed = c.box.changed()
    c.results = c.est.evaluate_many(c.archs)
    c.scores = np.array([r.score if isinstance(r, Result) and r.ok else np.nan for r in c.results], dtype=float)
    c.dead_cells = _disconnected_cells(c.archs)
    c.dead_scores = np.array([r.score if isinstance(r, Result) and r.ok else np.nan
                              for r in c.est.evaluate_many(c.dead_cells)], dtype=float)
    return True


def every_result_ok(c: ProxyCase):
    from ..estimators.base import Result

    for a, r in zip(c.archs, c.results):
        if not isinstance(r, Result) or not r.ok:
            why = r.error if isinstance(r, Result) else f"returned {r!r}"
            return False, f"{c.name}.evaluate({a}) failed: {why}"
    return True, ""


def same_cell_same_score(c: ProxyCase):
    probe, again = c.probe, c.again
    if probe.ok and again.ok and (probe.score == again.score or math.isclose(probe.score, again.score, rel_tol=1e-9)):
        return True, ""
    return False, (f"evaluate({c.archs[0]}) scored {probe.score} then {again.score}"
                   f"{' (' + str(probe.error or again.error) + ')' if not (probe.ok and again.ok) else ''}: "
                   "build the network with seeded weights (torch.random.fork_rng() and torch.manual_seed) "
                   "and draw the minibatch with a seeded torch.Generator")


def scores_a_disconnected_cell(c: ProxyCase):
    if c.dead.ok:
        return True, ""
    return False, (f"the disconnected cell {_disconnected()} failed: {c.dead.error}; return a low finite score "
                   "(a floor) for networks whose output ignores the input")


def disconnected_rank_last(c: ProxyCase):
    from ..spaces import CellSpace

    space = CellSpace()
    live = np.array([np.isfinite(v) and space.is_connected(a) for a, v in zip(c.archs, c.scores)])
    if not live.any():
        return False, "no connected cell of the sample got a finite score"
    k = int(np.flatnonzero(live)[np.argmin(c.scores[live])])
    floor = float(c.scores[k])
    for a, v in zip(c.dead_cells, c.dead_scores):
        if not np.isfinite(v) or v > floor:
            shown = "no finite score" if not np.isfinite(v) else f"{v:.4g}"
            return False, (f"the disconnected cell {a} got {shown}, above the lowest-scoring connected cell of the "
                           f"sample, {c.archs[k]} ({floor:.4g}): a cell whose input never reaches its output must "
                           "rank last. Detect it (e.g. the network's output is the same for every image) and return "
                           "a floor below every connected cell's score")
    return True, ""


def correlate(c: ProxyCase) -> None:
    """The reference, the baselines' and the proxy's rho; the scatter plot with ``plot``."""
    c.truth, _, _ = proxy_reference(c.archs, c.reference)
    if c.baselines:
        from ..estimators.zero_cost import ZeroCost

        for b in c.baselines:
            bs = [r.score for r in ZeroCost(b, c.data, batch_size=32, channels=8, seed=0).evaluate_many(c.archs)]
            c.base[b] = spearman(bs, c.truth)
    if c.margin is not None:
        if "params" not in c.base:
            from ..estimators.zero_cost import ZeroCost

            bs = [r.score for r in ZeroCost("params", c.data, channels=8, seed=0).evaluate_many(c.archs)]
            c.base["params"] = spearman(bs, c.truth)
        c.params_rho = c.base["params"]
    ok = np.isfinite(c.scores)
    c.rho = spearman(c.scores[ok], c.truth[ok]) if ok.sum() >= 3 else math.nan
    c.report.details.update(archs=c.archs, scores=c.scores, reference=c.truth, reference_name=c.reference,
                            rho=c.rho, baselines=c.base, threshold=c.threshold, params_rho=c.params_rho)
    if c.plot:
        c.report.details["ax"] = _scatter(c.scores, c.truth, c.reference, f"{c.name}, Spearman rho = {c.rho:.2f}",
                                          c.ax)


def correlates(c: ProxyCase):
    compare = ", ".join(f"{b}: {v:.2f}" for b, v in c.base.items())
    versus = f" (for comparison {compare})" if compare else ""
    if math.isnan(c.rho):
        return False, (f"Spearman rho is undefined: the proxy gave the same score to every cell{versus}; "
                       "it has to vary with the architecture")
    needed = c.threshold if c.margin is None else max(c.threshold, c.params_rho + c.margin)
    text = f"Spearman rho {c.rho:.2f} with the reference '{c.reference}', needed {needed:.2f}"
    if c.margin is not None:
        text += f" (the parameter count's {c.params_rho:.2f} + {c.margin:.2f})"
    text += versus
    if c.margin is not None and c.rho < needed and c.rho >= c.threshold:
        return False, (text + ". It does not rank the cells clearly better than counting their parameters, "
                       "which costs nothing (a size count, FLOPs or a random number is not an answer): look at "
                       "what the untrained network does with the images, e.g. how correlated its channels are "
                       "(MeCo) or how it separates the images (NASWOT)")
    if c.rho >= needed:
        if c.base and c.rho > max(v for v in c.base.values() if not math.isnan(v)):
            text += "; it beats every baseline"
        return True, text
    return False, (text + ". A zero-cost proxy should grow with what makes a network train well: how "
                   "differently it treats different images, how well gradients flow, its capacity")


#: The steps of :func:`check_proxy`, in report order.
PROXY_CHECKS = (
    Prepare(make_the_estimator),
    Prepare(score_the_sample),
    Step("every cell of the sample gets a finite score ({c.n_archs} cells)", every_result_ok),
    Step("same cell, same score", same_cell_same_score),
    Step("a disconnected cell gets a finite score", scores_a_disconnected_cell),
    Step("disconnected cells score at or below every connected cell ({c.n_dead} cells)", disconnected_rank_last,
         needs=(every_result_ok,)),
    Step("leaves global random state alone", leaves_global_state),
    Prepare(correlate),
    Step("ranks the {c.n_archs} cells like the reference: {c.bar}", correlates),
)


def check_proxy(make_estimator, *, reference: str = "auto", sample_size: int = 256, seed: int = 0,
                threshold: float = 0.3, margin: float | None = PARAMS_MARGIN,
                baselines: Sequence[str] = ("params", "synflow"), plot: bool = False, ax=None,
                quiet: bool = False) -> Report:
    """Check a proxy estimator by its Spearman rank correlation with a reference.

    ``make_estimator(data)`` (usually the estimator's class) is built on the
    reference's data and scores :func:`proxy_sample` ``(sample_size, seed)`` with
    ``evaluate_many``. Checks: every result ok with a finite score, the same score
    twice for the same cell, a finite score for a disconnected cell, every
    disconnected cell (A1's hand-picked ones and those of the sample) scored at or
    below every connected cell of the sample, global random state untouched, and
    Spearman's rho with :func:`proxy_reference` at least ``threshold`` and at least
    ``margin`` above the rho of the parameter count (``ZeroCost("params")``) on the
    same cells: a proxy has to beat the cheapest one there is (the figures behind
    :data:`PARAMS_MARGIN` show which proxies do). The ``baselines``
    (``nv.estimators.ZeroCost`` proxies on the same data and cells) are reported for
    comparison.

    Parameters
    ----------
    make_estimator : callable
        ``make_estimator(data)`` returns a :class:`nasviz.estimators.base.Estimator`.
    reference : str
        ``"auto"`` or one of :data:`REFERENCES`.
    sample_size, seed : int
        The fixed sample of cells.
    threshold : float
        The Spearman rho to reach.
    margin : float or None
        How far above the parameter count's rho the proxy's must be (default
        :data:`PARAMS_MARGIN`); ``None``: not required.
    baselines : sequence of str
        ZeroCost proxy names reported beside the student's.
    plot : bool
        Draw proxy score against reference value on ``ax`` (default: the current
        Axes), also when the check fails.
    quiet : bool
        Do not print the report.

    Returns
    -------
    Report
        ``details``: ``archs``, ``scores``, ``reference`` (values), ``reference_name``,
        ``rho``, ``baselines`` (name -> rho), ``params_rho``, ``ax`` when plotted.

    Examples
    --------
    >>> import nasviz as nv
    >>> def synflow(data):
    ...     return nv.estimators.ZeroCost("synflow", data)
    >>> r = check_proxy(synflow, sample_size=12, threshold=-1.0, margin=None, baselines=(), quiet=True)
    >>> r.passed, -1 <= r.details["rho"] <= 1
    (True, True)
    """
    if not -1 <= threshold <= 1:
        raise InvalidArgumentError(f"threshold must be a Spearman rho in [-1, 1], got {threshold!r}")
    with sandbox(torch=True) as box:
        case = ProxyCase(Report(display_name(make_estimator)), make_estimator, proxy_sample(sample_size, seed),
                         proxy_reference_name(reference), threshold, baselines, plot, ax, box, margin)
        return run_checks(case, PROXY_CHECKS, quiet=quiet)


def _scatter(scores, truth, ref_name: str, title: str, ax=None):
    import matplotlib.pyplot as plt

    if ax is None:
        ax = plt.gca()
    ax.scatter(scores, truth, s=25, alpha=0.8)
    ax.set_xlabel("proxy score")
    ax.set_ylabel(f"reference accuracy ({ref_name})")
    ax.set_title(title)
    return ax
