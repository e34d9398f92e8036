"""The ``nasviz`` command line (also ``python -m nasviz``).

Exit codes: 0 success; 2 a usage error (argparse prints the usage); 1 a nasviz error
(a bad cell string, an unknown op, a file that cannot be written), an ``OSError`` or a
``MemoryError``, reported as one line on stderr without a traceback.

Adding a subcommand: write ``_add_<name>(subparsers)``, which creates and returns its
parser, and ``_cmd_<name>(args) -> int``, which runs it (a large one in its own module,
as :mod:`nasviz.cli.search`), then append ``(_add_<name>, _cmd_<name>)`` to
:data:`SUBCOMMANDS`. Raise a
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

from .. import __version__
from ..errors import InvalidArgumentError, NasvizError, ShapeError
from .search import add_search, run_search

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

    from ..devices import auto_device

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
    from ..spaces.cell import CellSpace

    cells = CellSpace()
    try:
        return cells, cells.from_string(text)
    except NasvizError as cell_error:
        if "~" in text or "|" in text:
            raise
        try:
            from ..spaces.macro import MacroSpace
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

    from ..drawing import default_figsize, draw, draw_diff, draw_network, network_figsize

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
# the parser and main
# ---------------------------------------------------------------------------------------

#: ``(builder, runner)`` per subcommand, in the order ``--help`` lists them.
# ---------------------------------------------------------------------------------------
# bench
# ---------------------------------------------------------------------------------------

def _add_bench(subparsers):
    from ..bench.__main__ import add_arguments

    parser = subparsers.add_parser(
        "bench", help="list the benchmark tables; build (resumably) and finalize the ones nasviz trains",
        description="'nasviz bench list' lists the tables and the build journals; 'nasviz bench build digits201' "
                    "trains the runs its journal lacks (stop and rerun at any time); add --finalize to write "
                    "the table's NPZ. The same as 'python -m nasviz.bench'.",
    )
    return add_arguments(parser)


def _cmd_bench(args) -> int:
    from ..bench.__main__ import run

    if args.bench_command is None:
        raise InvalidArgumentError("choose a bench command: 'nasviz bench list' or 'nasviz bench build NAME'")
    return run(args)


# ---------------------------------------------------------------------------------------
# export
# ---------------------------------------------------------------------------------------

def _add_export(subparsers):
    p = subparsers.add_parser(
        "export", help="train a cell with a table's recipe and write its architecture, weights and ONNX file",
        description="Train the cell ARCH on the task of --benchmark with that table's own recipe (its first "
                    "seed), or on scikit-learn's digits with nv.estimators.Training's defaults, then write "
                    "architecture.json, weights.pt (a state_dict: torch.load(..., weights_only=True)) and, when "
                    "the onnx package is installed, model.onnx into --out (nv.export).",
        epilog="Example: nasviz export '|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|"
               "nor_conv_3x3~1|skip_connect~2|' --benchmark digits201 --out best/")
    p.add_argument("arch", help="the cell's string (quote it in the shell)")
    p.add_argument("--out", required=True, metavar="DIR", help="the folder to write")
    p.add_argument("--benchmark", default=None,
                   help="a table nasviz built (digits201): train with its recipe on its task")
    p.add_argument("--epochs", type=int, default=None, help="training epochs (default: the recipe's, or 4)")
    p.add_argument("--seed", type=int, default=0, help="the training seed (default 0)")
    p.add_argument("--no-onnx", action="store_true", help="do not write model.onnx")
    return p


def _cmd_export(args) -> int:
    from ..bench.build.recipes import RECIPES
    from ..exporting import export
    from ..validation import check_int, check_seed

    check_seed("--seed", args.seed, allow_none=False)
    if args.epochs is not None:
        check_int("--epochs", args.epochs, minimum=1)
    space, arch = parse_architecture(args.arch)
    if type(space).__name__ != "CellSpace":
        raise InvalidArgumentError("nasviz export trains cells: give a NAS-Bench-201 cell string")
    if args.benchmark is not None and args.benchmark not in RECIPES:
        raise InvalidArgumentError(f"--benchmark {args.benchmark!r} has no recipe; accepted: "
                                   f"{', '.join(repr(n) for n in RECIPES if RECIPES[n].space is None)}")
    from .search import _task_data

    data = _task_data(args)  # the benchmark's own task, or scikit-learn's digits
    if args.benchmark is None:
        from ..estimators import Training

        est = Training(data, epochs=args.epochs or 4, seed=args.seed)
    else:
        changes = {"epochs": args.epochs} if args.epochs else {}
        est = RECIPES[args.benchmark].estimator(args.seed, data=data, **changes)
    net, result = est.train_network(arch)
    written = export(arch, args.out, model=net, onnx=False if args.no_onnx else "auto",
                     input_shape=tuple(data.X_train.shape[1:]), num_classes=data.num_classes,
                     in_channels=data.in_channels, channels=est.channels, cells_per_stage=est.cells_per_stage)
    print(f"trained: validation accuracy {result.score:.4f} ({est.fidelity})")
    for kind, path in written.items():
        print(f"{kind}: {path}")
    if "onnx" not in written and not args.no_onnx:
        print("onnx: not written (pip install onnx to write model.onnx)")
    return 0


SUBCOMMANDS = [
    (_add_info, _cmd_info),
    (_add_draw, _cmd_draw),
    (add_search, run_search),
    (_add_bench, _cmd_bench),
    (_add_export, _cmd_export),
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
