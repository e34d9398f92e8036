"""The ``nasviz`` command line (also ``python -m nasviz``).

Exit codes: 0 success; 2 a usage error (argparse prints the usage); 1 a nasviz error
(a bad cell string, an unknown op, a file that cannot be written), an ``OSError`` or a
``MemoryError``, reported as one line on stderr without a traceback.

Adding a subcommand: write ``_add_<name>(subparsers)``, which creates and returns its
parser, and ``_cmd_<name>(args) -> int``, which runs it, then append
``(_add_<name>, _cmd_<name>)`` to :data:`SUBCOMMANDS`. Raise a
:class:`~nasviz.errors.NasvizError` for bad input: :func:`main` turns it into the
one-line message and exit code 1.

Examples
--------
>>> from nasviz.cli import main
>>> main(["--version"])  # doctest: +ELLIPSIS
nasviz ...
0
"""

from __future__ import annotations

import argparse
import sys

from . import __version__
from .errors import InvalidArgumentError, NasvizError, ShapeError

__all__ = ["SUBCOMMANDS", "build_parser", "main", "parse_architecture"]


# ---------------------------------------------------------------------------------------
# info
# ---------------------------------------------------------------------------------------

def _add_info(subparsers):
    return subparsers.add_parser(
        "info", help="versions, threads and the device that device='auto' would use",
        description="Print the versions of nasviz, Python, torch and numpy, the number of threads torch "
                    "uses, and the device that device='auto' would choose.",
    )


def _cmd_info(args) -> int:
    import platform
    from importlib import metadata

    import numpy
    import torch

    from .devices import auto_device

    def version(dist, fallback="not installed"):
        try:
            return metadata.version(dist)
        except metadata.PackageNotFoundError:
            return fallback

    device = auto_device()
    rows = [
        ("nasviz", __version__),
        ("python", f"{platform.python_version()} ({sys.executable})"),
        ("torch", torch.__version__),
        ("numpy", numpy.__version__),
        ("networkx", version("networkx")),
        ("matplotlib", version("matplotlib")),
        ("threads", f"{torch.get_num_threads()} (torch.get_num_threads())"),
        ("cuda", f"{torch.cuda.device_count()} device(s): {torch.cuda.get_device_name(0)}"
         if torch.cuda.is_available() else "not available"),
        ("device", f'{device} (what device="auto" chooses)'),
    ]
    width = max(len(k) for k, _ in rows)
    for key, value in rows:
        print(f"{key + ':':<{width + 1}} {value}")
    return 0


# ---------------------------------------------------------------------------------------
# draw
# ---------------------------------------------------------------------------------------

def _input_shape(text: str) -> tuple[int, int, int]:
    try:
        shape = tuple(int(p) for p in text.replace("x", ",").split(","))
    except ValueError:
        shape = ()
    if len(shape) != 3 or min(shape) < 1:
        raise argparse.ArgumentTypeError(f"expected C,H,W of positive integers such as 1,8,8, got {text!r}")
    return shape


def parse_architecture(text: str, *, input_shape=(1, 8, 8)):
    """``(space, arch)`` for a NAS-Bench-201 cell string or a layer-chain string.

    The cell parser is tried first; text without ``~`` that is not a cell is read as a
    :class:`~nasviz.spaces.MacroSpace` chain (``input_shape`` sets the images it takes).

    Examples
    --------
    >>> space, arch = parse_architecture("|none~0|+|none~0|none~1|+|none~0|none~1|skip_connect~2|")
    >>> type(space).__name__, arch.ops[-1]
    ('CellSpace', 'skip_connect')
    >>> type(parse_architecture("conv(16,k3,s1,relu,d0.0) > max_pool(k3,s2)")[0]).__name__
    'MacroSpace'
    """
    from .spaces.cell import CellSpace

    cells = CellSpace()
    try:
        return cells, cells.from_string(text)
    except NasvizError as cell_error:
        if "~" in text or "|" in text:
            raise
        try:
            from .spaces.macro import MacroSpace
        except ImportError:
            raise cell_error from None
    depth = text.count(">") + 1
    space = MacroSpace(max_layers=max(4, depth), input_shape=tuple(input_shape))
    return space, space.from_string(text)


#: The ``--dpi`` values ``nasviz draw`` accepts (beyond 1200, a drawing's bitmap takes gigabytes).
DPI_RANGE = (10, 1200)


def _add_draw(subparsers):
    p = subparsers.add_parser(
        "draw", help="draw a cell or layer chain to an image file",
        description="Draw an architecture given as a NAS-Bench-201 cell string "
                    "(e.g. '|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|"
                    "skip_connect~2|') or a layer chain (e.g. 'conv(16,k3,s1,relu,d0.0) > max_pool(k3,s2)'). "
                    "The image format follows the file name (png, svg, pdf, ...).",
    )
    p.add_argument("arch", help="the architecture string (quote it in the shell)")
    p.add_argument("-o", "--output", required=True, help="image file to write, e.g. cell.png")
    p.add_argument("--hide-none", action="store_true", help="leave out 'none' (zero) edges of a cell")
    p.add_argument("--network", action="store_true",
                   help="draw the whole network (stem, cells, reductions, head) with the cell expanded")
    p.add_argument("--diff", metavar="OTHER",
                   help="draw OTHER with what changed from ARCH highlighted (same kind of architecture)")
    p.add_argument("--no-labels", action="store_true", help="no op names on the edges")
    p.add_argument("--cells-per-stage", type=int, default=1, help="cells per stage for --network (default 1)")
    p.add_argument("--channels", type=int, default=16, help="stem channels for --network (default 16)")
    p.add_argument("--input-shape", type=_input_shape, default=(1, 8, 8), metavar="C,H,W",
                   help="input images, e.g. 1,8,8 (default): shapes in --network and layer chains")
    p.add_argument("--dpi", type=int, default=110,
                   help=f"resolution of raster images, {DPI_RANGE[0]}..{DPI_RANGE[1]} (default 110)")
    return p


def _cmd_draw(args) -> int:
    from pathlib import Path

    from matplotlib.figure import Figure  # no pyplot: works headless, no global state

    from .draw import default_figsize, draw, draw_diff, draw_network, network_figsize

    space, arch = parse_architecture(args.arch, input_shape=args.input_shape)
    path = Path(args.output)
    fig = Figure()
    formats = fig.canvas.get_supported_filetypes()
    suffix = path.suffix.lower().lstrip(".")
    if suffix not in formats:
        raise InvalidArgumentError(
            f"unknown image format {path.suffix or '(no suffix)'!r} of {args.output!r}; accepted: "
            f"{', '.join(repr('.' + f) for f in sorted(formats))}"
        )
    if not DPI_RANGE[0] <= args.dpi <= DPI_RANGE[1]:
        raise InvalidArgumentError(f"--dpi must be in {DPI_RANGE[0]}..{DPI_RANGE[1]} (dots per inch), got {args.dpi}")
    show_none = not args.hide_none
    if args.diff is not None:
        _, other = parse_architecture(args.diff, input_shape=args.input_shape)
        fig.set_size_inches(default_figsize(other))
        draw_diff(arch, other, ax=fig.add_subplot(), show_none=show_none)
    elif args.network and type(space).__name__ == "CellSpace":
        size = network_figsize(space, arch, channels=args.channels, cells_per_stage=args.cells_per_stage,
                                       input_shape=args.input_shape, show_none=show_none)
        fig.set_size_inches(size)
        draw_network(space, arch, ax=fig.add_axes((0, 0, 1, 1)), channels=args.channels,
                             cells_per_stage=args.cells_per_stage, input_shape=args.input_shape,
                             show_none=show_none)
    else:
        fig.set_size_inches(default_figsize(arch))
        draw(arch, ax=fig.add_subplot(), show_none=show_none, labels=not args.no_labels)
    try:
        fig.savefig(path, dpi=args.dpi, bbox_inches="tight")
    except OSError as err:
        raise InvalidArgumentError(f"cannot write {args.output!r}: {err.strerror or err}") from None
    print(f"wrote {path}")
    return 0


# ---------------------------------------------------------------------------------------
# search
# ---------------------------------------------------------------------------------------

def _strategy_name(text: str) -> str:
    from .strategies import available

    names = available()
    classes = _strategy_classes()
    if text in names or text.lower() in classes:
        return text
    raise argparse.ArgumentTypeError(
        f"unknown strategy {text!r}; accepted: {', '.join(names)} (or their class names)")


def _strategy_classes() -> set[str]:
    from . import strategies

    return {name.lower() for name in getattr(strategies, "__all__", ())
            if isinstance(getattr(strategies, name, None), type)}


def _estimator_spec(text: str) -> str:
    kind, _, name = text.partition(":")
    if kind == "table" and not name:
        return text
    if kind == "training" and not name:
        from . import estimators

        if not hasattr(estimators, "Training"):
            raise argparse.ArgumentTypeError("the training estimator is not available in this nasviz")
        return text
    if kind == "zerocost":
        from .estimators import ZeroCost

        if name in ZeroCost.available():
            return text
        raise argparse.ArgumentTypeError(
            f"unknown zero-cost proxy {name!r} in {text!r}; accepted: "
            f"{', '.join('zerocost:' + p for p in ZeroCost.available())}")
    raise argparse.ArgumentTypeError(
        f"unknown estimator {text!r}; accepted: table, training, zerocost:NAME (e.g. zerocost:synflow)")


def _benchmark_name(text: str) -> str:
    import os

    from .bench import available

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


def _add_search(subparsers):
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
                   help="random, exhaustive, evolution (default), local, bo, reinforce, mcts, sh, hyperband; "
                        "with --resume: the journal's, or an error if another is given")
    p.add_argument("--estimator", type=_estimator_spec, default="table",
                   help="table (default), training (a few epochs on digits), or zerocost:NAME "
                        "(e.g. zerocost:synflow)")
    p.add_argument("--epochs", type=_positive_int, default=4, help="epochs for --estimator training (default 4)")
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
    p.set_defaults(_search_parser=p)
    return p


def _search_usage_error(args, message: str) -> int:
    parser = args._search_parser
    parser.print_usage(sys.stderr)
    print(f"{parser.prog}: error: {message}", file=sys.stderr)
    return 2


def _search_estimator(args, space):
    kind, _, name = args.estimator.partition(":")
    from . import estimators

    if kind == "table":
        from .bench import load

        return estimators.Tabular(load(args.benchmark), metric=args.metric)
    from .data import digits

    data = digits()
    if kind == "training":
        return estimators.Training(data, space=space, epochs=args.epochs, seed=args.seed, device="auto")
    return estimators.ZeroCost(name, data, space=space, seed=args.seed)


def _resume_clash(args) -> str | None:
    """Why ``--strategy`` / ``--seed`` disagree with the journal that ``--resume`` continues, or None
    (then a missing ``--seed`` becomes the journal's)."""
    from .storage import Journal
    from .strategies import get
    from .spaces import CellSpace

    with Journal(args.storage, readonly=True) as journal:
        meta = journal.read_run()
    described = meta["strategy"]
    journaled_class = str(described.get("class", "")).rpartition(":")[2]
    journaled_seed = (described.get("kwargs") or {}).get("seed")
    if meta.get("seed") is not None:
        journaled_seed = meta["seed"]
    problems = []
    if args.strategy is not None:
        given = type(get(args.strategy, CellSpace())).__name__
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


def _cmd_search(args) -> int:
    import os
    from pathlib import Path

    from .search import Search
    from .storage import Journal

    if args.resume and not args.storage:
        return _search_usage_error(args, "--resume needs --storage PATH (the journal to continue)")
    if args.metric is not None and args.estimator != "table":
        return _search_usage_error(args, f"--metric applies to --estimator table, not {args.estimator!r}")
    if args.space == "macro" and args.estimator == "table":
        return _search_usage_error(args, "--space macro has no table: use --estimator training or zerocost:NAME")
    if args.budget_kind == "evaluations" and args.budget is not None and not isinstance(args.budget, int):
        return _search_usage_error(args, f"--budget counts evaluations: expected an integer, got {args.budget}")

    if args.space == "cell" and args.estimator == "table":
        from .bench import load

        space = load(args.benchmark).space
    elif args.space == "cell":
        from .spaces import CellSpace

        space = CellSpace()
    else:
        from .spaces import MacroSpace

        space = MacroSpace()
    if args.resume and args.storage and Journal.holds_run(args.storage):
        clash = _resume_clash(args)
        if clash:
            return _search_usage_error(args, clash)
    strategy_name = "evolution" if args.strategy is None else args.strategy
    if args.seed is None:
        args.seed = 0
    estimator = _search_estimator(args, space)

    client = executor = None
    workers = args.workers
    if args.dask_scheduler:
        try:
            from distributed import Client
        except ImportError:
            raise InvalidArgumentError("--dask-scheduler needs Dask: pip install 'dask[distributed]'") from None
        try:
            client = Client(args.dask_scheduler, timeout="10s")
        except (OSError, TimeoutError, ValueError) as err:  # refused, timed out, malformed address
            raise InvalidArgumentError(f"cannot reach the Dask scheduler {args.dask_scheduler!r}: {err}") from None
        executor = client.get_executor()
        if workers is None:
            workers = max(1, len(client.scheduler_info().get("workers", {})))
    workers = workers or 1
    try:
        resuming = args.resume and Journal.holds_run(args.storage)
        if resuming:
            search = Search.resume(args.storage, estimator=estimator, budget=args.budget, workers=workers,
                                   executor=executor)
        else:
            if args.storage and Journal.holds_run(args.storage):
                raise InvalidArgumentError(f"--storage {args.storage!r} already holds a search: add --resume to "
                                           "continue it, or choose another path")
            from .strategies import get

            strategy = get(strategy_name, space, seed=args.seed)
            budget = 100 if args.budget is None else args.budget
            search = Search(space, strategy, estimator, budget=budget, budget_kind=args.budget_kind,
                            workers=workers, executor=executor, storage=args.storage)
        history = search.run(progress=not args.quiet)
    finally:
        if client is not None:
            client.close()

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
    target = args.draw
    if target is None and args.storage:
        stem = Path(args.storage)
        target = str(stem.with_name(stem.stem + "-best.png"))
    if target is not None:
        from matplotlib.figure import Figure

        from .draw import default_figsize, draw

        fig = Figure(figsize=default_figsize(best.arch))
        draw(best.arch, ax=fig.add_subplot())
        fig.axes[0].set_title(f"best: score {best.score:.4g} (trial {best.number})")
        try:
            fig.savefig(target, dpi=110, bbox_inches="tight")
        except (OSError, ValueError) as err:
            raise InvalidArgumentError(f"cannot write the drawing {target!r}: {err}") from None
        print(f"drawing: {os.fspath(target)}")
    else:
        print("drawing: none (pass --draw PATH, or --storage PATH to draw next to it)")
    if search.stopped_reason_ == "interrupted":
        print("nasviz search: interrupted; continue with --resume" if args.storage else
              "nasviz search: interrupted", file=sys.stderr)
        return 130
    return 0


# ---------------------------------------------------------------------------------------
# the parser and main
# ---------------------------------------------------------------------------------------

#: ``(builder, runner)`` per subcommand, in the order ``--help`` lists them.
# ---------------------------------------------------------------------------------------
# bench
# ---------------------------------------------------------------------------------------

def _add_bench(subparsers):
    from .bench.__main__ import add_arguments

    parser = subparsers.add_parser(
        "bench", help="list the benchmark tables; build (resumably) and finalize the ones nasviz trains",
        description="'nasviz bench list' lists the tables and the build journals; 'nasviz bench build digits201' "
                    "trains the runs its journal lacks (stop and rerun at any time); add --finalize to write "
                    "the table's NPZ. The same as 'python -m nasviz.bench'.",
    )
    return add_arguments(parser)


def _cmd_bench(args) -> int:
    from .bench.__main__ import run

    if args.bench_command is None:
        raise InvalidArgumentError("choose a bench command: 'nasviz bench list' or 'nasviz bench build NAME'")
    return run(args)


SUBCOMMANDS = [
    (_add_info, _cmd_info),
    (_add_draw, _cmd_draw),
    (_add_search, _cmd_search),
    (_add_bench, _cmd_bench),
]


def build_parser() -> argparse.ArgumentParser:
    """The ``nasviz`` argument parser with every subcommand of :data:`SUBCOMMANDS`."""
    parser = argparse.ArgumentParser(
        prog="nasviz",
        description="nasviz: explore and teach Neural Architecture Search from the command line.",
        epilog="Run 'nasviz COMMAND --help' for a command's options.",
    )
    parser.add_argument("--version", action="version", version=f"nasviz {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for add, run in SUBCOMMANDS:
        add(subparsers).set_defaults(_run=run)
    return parser


def main(argv=None) -> int:
    """Run the command line with ``argv`` (default ``sys.argv[1:]``); return the exit code."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as stop:  # --help and --version (0), usage errors (2)
        code = stop.code
        return code if isinstance(code, int) else (0 if code is None else 2)
    run = getattr(args, "_run", None)
    if run is None:
        parser.print_help(sys.stderr)
        return 2
    try:
        return int(run(args) or 0)
    except (NasvizError, ShapeError, OSError, MemoryError) as err:
        message = " ".join(str(err).split())
        if isinstance(err, MemoryError):
            message = f"out of memory{f' ({message})' if message else ''}; try smaller settings"
        elif isinstance(err, OSError) and not isinstance(err, NasvizError):
            message = f"{type(err).__name__}: {message or err.strerror or 'input/output error'}"
        print(f"nasviz {args.command}: error: {message}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"nasviz {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
