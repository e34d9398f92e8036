"""``nasviz search``: run a strategy with an estimator, journaled, resumable, drawn."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from ..errors import InvalidArgumentError

__all__ = ["add_search", "run_search"]



def _strategy_name(text: str) -> str:
    from ..strategies import available

    names = available()
    classes = _strategy_classes()
    if text in names or text.lower() in classes:
        return text
    raise argparse.ArgumentTypeError(
        f"unknown strategy {text!r}; accepted: {', '.join(names)} (or their class names)")


def _strategy_classes() -> set[str]:
    from .. import strategies

    return {name.lower() for name in getattr(strategies, "__all__", ())
            if isinstance(getattr(strategies, name, None), type)}


def _estimator_spec(text: str) -> str:
    kind, _, name = text.partition(":")
    if kind == "table" and not name:
        return text
    if kind == "weightsharing" and not name:
        return text
    if kind == "training" and not name:
        from .. import estimators

        if not hasattr(estimators, "Training"):
            raise argparse.ArgumentTypeError("the training estimator is not available in this nasviz")
        return text
    if kind == "zerocost":
        from ..estimators import ZeroCost

        if name in ZeroCost.available():
            return text
        raise argparse.ArgumentTypeError(
            f"unknown zero-cost proxy {name!r} in {text!r}; accepted: "
            f"{', '.join('zerocost:' + p for p in ZeroCost.available())}")
    raise argparse.ArgumentTypeError(
        f"unknown estimator {text!r}; accepted: table, training, weightsharing, zerocost:NAME (e.g. "
        "zerocost:synflow)")


def _benchmark_name(text: str) -> str:
    import os

    from ..bench import available

    if text in available() or os.path.isfile(text):
        return text
    raise argparse.ArgumentTypeError(
        f"unknown benchmark {text!r}; accepted: {', '.join(available())} (or the path of a table file)")


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected an integer >= 1, got {text!r}")
    return value


def _seed(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = -1
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected a seed, an integer >= 0, got {text!r}")
    return value


def _positive_number(text: str) -> float | int:
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}")
    return int(value) if value.is_integer() else value


def add_search(subparsers):
    p = subparsers.add_parser(
        "search", help="run a search strategy with an estimator, journaled to SQLite",
        description="Run a NAS strategy over a space until the budget is spent, print the best "
                    "architecture and its score, and draw it. With --storage every finished evaluation "
                    "is journaled; --resume continues a journal after a crash or with a larger budget.",
        epilog="Example: nasviz search --benchmark nb201-12epoch --strategy evolution --budget 100 "
               "--seed 0 --storage run.sqlite",
    )
    p.add_argument("--space", choices=["cell", "macro"], default="cell",
                   help="cell: NAS-Bench-201 cells (default); macro: layer chains (needs --estimator "
                        "training or zerocost:NAME)")
    p.add_argument("--benchmark", type=_benchmark_name, default="nb201-12epoch",
                   help="the table for --estimator table (default nb201-12epoch)")
    p.add_argument("--metric", help="the table metric to maximise (default: the table's own)")
    p.add_argument("--strategy", type=_strategy_name, default=None,
                   help="random, exhaustive, evolution (default), local, bo, reinforce, mcts, sh, hyperband, "
                        "darts, gdas (differentiable: a supernet trained on the task's images, then the cell of "
                        "each search epoch evaluated); with --resume: the journal's, or an error if another is "
                        "given")
    p.add_argument("--estimator", type=_estimator_spec, default="table",
                   help="table (default), training (a few epochs on the task's images), weightsharing (a "
                        "supernet trained once, every cell judged with its weights), or zerocost:NAME (e.g. "
                        "zerocost:synflow). The task is the --benchmark's own where nasviz built it (digits201), "
                        "else scikit-learn's digits")
    p.add_argument("--epochs", type=_positive_int, default=4, help="epochs for --estimator training, or of the supernet for --estimator weightsharing "
                        "(default 4)")
    p.add_argument("--search-epochs", type=_positive_int, default=20,
                   help="search epochs of --strategy darts or gdas (default 20)")
    p.add_argument("--budget", type=_positive_number, default=None,
                   help="evaluations (default 100), or seconds with --budget-kind cost")
    p.add_argument("--budget-kind", choices=["evaluations", "cost"], default="evaluations",
                   help="what --budget counts: evaluations (default) or seconds of (simulated) cost")
    p.add_argument("--seed", type=_seed, default=None,
                   help="the strategy's seed (default 0; with --resume: the journal's, or an error if another "
                        "is given)")
    p.add_argument("--storage", metavar="PATH", help="SQLite journal of the run, e.g. run.sqlite")
    p.add_argument("--resume", action="store_true",
                   help="continue the search journaled in --storage (starts one if the file does not exist)")
    p.add_argument("--workers", type=_positive_int, default=None,
                   help="evaluations in flight (default 1; with --dask-scheduler: the cluster's workers)")
    p.add_argument("--dask-scheduler", metavar="ADDR",
                   help="run evaluations on a Dask cluster, e.g. tcp://host:8786")
    p.add_argument("--draw", metavar="PATH",
                   help="where to draw the best architecture (default: next to --storage, as NAME-best.png)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(search_parser=p)
    return p


def _search_usage_error(args, message: str) -> int:
    parser = args.search_parser
    parser.print_usage(sys.stderr)
    print(f"{parser.prog}: error: {message}", file=sys.stderr)
    return 2


def _search_estimator(args, space):
    kind, _, name = args.estimator.partition(":")
    from .. import estimators

    if kind == "table":
        from ..bench import load

        return estimators.Tabular(load(args.benchmark), metric=args.metric)
    data = _task_data(args)
    if kind == "training":
        return estimators.Training(data, space=space, epochs=args.epochs, seed=args.seed, device="auto")
    if kind == "weightsharing":
        return estimators.WeightSharing(data, space=space, epochs=args.epochs, seed=args.seed, device="auto")
    return estimators.ZeroCost(name, data, space=space, seed=args.seed)


def _task_data(args):
    """The images a trained estimator or a differentiable search learns from: the ``--benchmark``'s own
    task when nasviz built that table from a recipe, else scikit-learn's digits."""
    from ..bench import recipe
    from ..bench.build.recipes import RECIPES
    from ..data import digits

    return recipe(args.benchmark).data() if args.benchmark in RECIPES else digits()


def _strategy(args, space, name):
    """The strategy ``name`` on ``space`` with ``--seed`` (and, for darts / gdas, the task's images)."""
    from ..strategies import Differentiable, get, strategy_class

    if strategy_class(name)[0] is Differentiable:
        return get(name, space, seed=args.seed, data=_task_data(args), epochs=args.search_epochs)
    return get(name, space, seed=args.seed)


def _resume_clash(args) -> str | None:
    """Why ``--strategy`` / ``--seed`` disagree with the journal that ``--resume`` continues, or None
    (then a missing ``--seed`` becomes the journal's)."""
    from ..spaces import CellSpace
    from ..storage import Journal

    with Journal(args.storage, readonly=True) as journal:
        meta = journal.read_run()
    described = meta["strategy"]
    journaled_class = str(described.get("class", "")).rpartition(":")[2]
    journaled_seed = (described.get("kwargs") or {}).get("seed")
    if meta.get("seed") is not None:
        journaled_seed = meta["seed"]
    problems = []
    if journaled_class == "Differentiable":
        return (f"--resume does not continue a darts or gdas search ({args.storage!r}): its supernet trains "
                "again from the seed in seconds; start it again with another --storage")
    if args.strategy is not None:
        given = type(_strategy(args, CellSpace(), args.strategy)).__name__
        if given != journaled_class:
            problems.append(f"--strategy {args.strategy} ({given}), but the journal was searched with "
                            f"{journaled_class}")
    if args.seed is not None and args.seed != journaled_seed:
        problems.append(f"--seed {args.seed}, but the journal's seed is {journaled_seed!r}")
    if not problems:
        if args.seed is None and isinstance(journaled_seed, int):
            args.seed = journaled_seed  # the estimator is built as in the original run
        return None
    return (f"--resume continues {args.storage!r} as it was started: " + "; ".join(problems)
            + " (leave them out, or start a new search with another --storage)")


def run_search(args) -> int:
    """Run ``nasviz search``: check the arguments, build or resume the search, run it, report."""
    problem = _usage_problem(args)
    if problem:
        return _search_usage_error(args, problem)
    space = _search_space(args)
    holds_run = bool(args.storage) and _holds_run(args.storage)
    if args.resume and holds_run:
        clash = _resume_clash(args)
        if clash:
            return _search_usage_error(args, clash)
    if args.seed is None:
        args.seed = 0
    estimator = _search_estimator(args, space)
    client, executor, workers = _dask_executor(args)
    try:
        search = _make_search(args, space, estimator, executor, workers, holds_run)
        history = search.run(progress=not args.quiet)
    finally:
        if client is not None:
            client.close()
    return _report(args, search, history, estimator)


def _holds_run(path) -> bool:
    from ..storage import Journal

    return Journal.holds_run(path)


def _usage_problem(args) -> str | None:
    if args.resume and not args.storage:
        return "--resume needs --storage PATH (the journal to continue)"
    if args.metric is not None and args.estimator != "table":
        return f"--metric applies to --estimator table, not {args.estimator!r}"
    if args.space == "macro" and args.estimator == "table":
        return "--space macro has no table: use --estimator training or zerocost:NAME"
    if args.budget_kind == "evaluations" and args.budget is not None and not isinstance(args.budget, int):
        return f"--budget counts evaluations: expected an integer, got {args.budget}"
    return None


def _search_space(args):
    if args.space == "cell" and args.estimator == "table":
        from ..bench import load

        return load(args.benchmark).space
    from ..spaces import CellSpace, MacroSpace

    return CellSpace() if args.space == "cell" else MacroSpace()


def _dask_executor(args):
    """``(client, executor, workers)``: a Dask cluster's executor with ``--dask-scheduler``, else none."""
    if not args.dask_scheduler:
        return None, None, args.workers or 1
    try:
        from distributed import Client
    except ImportError:
        raise InvalidArgumentError("--dask-scheduler needs Dask: pip install 'dask[distributed]'") from None
    try:
        client = Client(args.dask_scheduler, timeout="10s")
    except (OSError, TimeoutError, ValueError) as err:  # refused, timed out, malformed address
        raise InvalidArgumentError(f"cannot reach the Dask scheduler {args.dask_scheduler!r}: {err}") from None
    workers = args.workers
    if workers is None:
        workers = max(1, len(client.scheduler_info().get("workers", {})))
    return client, client.get_executor(), workers


def _make_search(args, space, estimator, executor, workers, holds_run: bool):
    from ..search import Search

    if args.resume and holds_run:
        return Search.resume(args.storage, estimator=estimator, budget=args.budget, workers=workers,
                             executor=executor)
    if holds_run:
        raise InvalidArgumentError(f"--storage {args.storage!r} already holds a search: add --resume to "
                                   "continue it, or choose another path")
    strategy = _strategy(args, space, "evolution" if args.strategy is None else args.strategy)
    budget = 100 if args.budget is None else args.budget
    return Search(space, strategy, estimator, budget=budget, budget_kind=args.budget_kind,
                  workers=workers, executor=executor, storage=args.storage)


def _report(args, search, history, estimator) -> int:
    best = history.best
    what = "evaluations" if search.budget_kind == "evaluations" else "s of cost"
    print(f"trials: {len(history)} ({len(history.failed)} failed, {history.n_repeats} repeats); "
          f"budget {search.budget} {what}; stopped: {search.stopped_reason_}")
    if args.storage:
        print(f"journal: {args.storage}")
    if best is None:
        print("nasviz search: error: no candidate succeeded; see the errors with "
              "nv.History.from_storage(PATH).failed", file=sys.stderr)
        return 1
    fidelity = getattr(estimator, "fidelity", None)
    print(f"best: {best.arch}")
    print(f"score: {best.score:.6g}{f' ({fidelity})' if isinstance(fidelity, str) else ''} at trial {best.number}")
    _draw_best(args, best)
    if search.stopped_reason_ == "interrupted":
        print("nasviz search: interrupted; continue with --resume" if args.storage else
              "nasviz search: interrupted", file=sys.stderr)
        return 130
    return 0


def _draw_best(args, best) -> None:
    target = args.draw
    if target is None and args.storage:
        stem = Path(args.storage)
        target = str(stem.with_name(stem.stem + "-best.png"))
    if target is None:
        print("drawing: none (pass --draw PATH, or --storage PATH to draw next to it)")
        return
    from matplotlib.figure import Figure

    from ..drawing import default_figsize, draw

    fig = Figure(figsize=default_figsize(best.arch))
    draw(best.arch, ax=fig.add_subplot())
    fig.axes[0].set_title(f"best: score {best.score:.4g} (trial {best.number})")
    try:
        fig.savefig(target, dpi=110, bbox_inches="tight")
    except (OSError, ValueError) as err:
        raise InvalidArgumentError(f"cannot write the drawing {target!r}: {err}") from None
    print(f"drawing: {os.fspath(target)}")
