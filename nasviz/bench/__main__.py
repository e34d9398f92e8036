"""``python -m nasviz.bench``: build, finalize and list the tables nasviz trains itself.

::

    python -m nasviz.bench list
    python -m nasviz.bench build digits201 [--seeds 0 1 2] [--workers 2] [--limit N] [--journal PATH]
    python -m nasviz.bench build digits201 --finalize [--partial --out PATH]
    python -m nasviz.bench build shifted-layers --limit 32 --workers 1 --journal PATH   # a layer-chain table

``build`` continues from the journal (finished runs are never trained again) and can
be stopped at any time; ``--finalize`` assembles the journal into the table's NPZ and
prints its sha256.
"""

from __future__ import annotations

import argparse
import sys

__all__ = ["add_arguments", "main", "run"]


def add_arguments(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """The ``list`` / ``build`` sub-commands (shared with ``nasviz bench``)."""
    sub = parser.add_subparsers(dest="bench_command", metavar="{list,build}")
    sub.add_parser("list", help="the shipped tables and the state of the tables nasviz builds",
                   description="List the tables: shipped ones (with their files) and the build journals.")
    b = sub.add_parser(
        "build", help="train (or continue training) a table; --finalize writes its NPZ",
        description="Train every (canonical class, seed) run of the table's recipe that the journal lacks, "
                    "appending each finished chunk to the journal (resumable: stop at any time and run again). "
                    "In a layer-chain table (shifted-layers) every architecture is its own class. "
                    "--finalize assembles the journal into the table's NPZ and prints its sha256.")
    b.add_argument("name", help="the table: digits201, shifted201 or shifted-layers")
    b.add_argument("--seeds", type=int, nargs="+", default=None, metavar="S",
                   help="training seeds (default: the recipe's, e.g. 0 1 2 for digits201)")
    b.add_argument("--workers", type=int, default=2, help="worker processes, one CPU thread each (default 2)")
    b.add_argument("--limit", type=int, default=None, metavar="N",
                   help="only the chunks holding the first N classes of the fixed build order")
    b.add_argument("--journal", default=None, metavar="PATH",
                   help="journal folder (default nasviz/bench/journal/NAME)")
    b.add_argument("--finalize", action="store_true", help="write the table's NPZ from the journal instead")
    b.add_argument("--partial", action="store_true",
                   help="with --finalize: write the cells done so far (needs --out; never the shipped file)")
    b.add_argument("--out", default=None, metavar="PATH", help="with --finalize: where to write the NPZ")
    return parser


def run(args) -> int:
    """Run parsed ``list`` / ``build`` arguments; nasviz errors propagate."""
    from ..errors import InvalidArgumentError
    from . import build as builder
    from .build.recipes import RECIPES
    from .tables import DATA_DIR, TABLES

    if args.bench_command == "list":
        for name in list(TABLES) + [n for n in RECIPES if n not in TABLES]:
            if name in TABLES:
                file = TABLES[name][0]
                line = f"{name:<16} {'shipped' if (DATA_DIR / file).is_file() else 'not built'}: {DATA_DIR / file}"
            else:
                line = f"{name:<16} not shipped (a recipe nasviz can build)"
            if name in RECIPES:
                try:
                    st = builder.status(name)
                    line += f"; journal {st['done']:,} of {st['total']:,} (class, seed) runs"
                except InvalidArgumentError as err:
                    line += f"; journal unreadable: {err}"
            print(line)
        return 0
    if args.bench_command != "build":
        raise InvalidArgumentError("choose a command: 'list' or 'build NAME'")
    if args.finalize:
        builder.finalize(args.name, seeds=args.seeds, journal=args.journal, out=args.out, partial=args.partial)
        return 0
    if args.partial or args.out:
        raise InvalidArgumentError("--partial and --out go with --finalize")
    builder.build(args.name, seeds=args.seeds, workers=args.workers, limit=args.limit, journal=args.journal)
    return 0


def main(argv=None) -> int:
    """``python -m nasviz.bench ...``; returns the exit code (1 for a nasviz error, 130 when interrupted)."""
    from ..errors import NasvizError

    parser = add_arguments(argparse.ArgumentParser(prog="python -m nasviz.bench", description=__doc__.split("\n")[0]))
    args = parser.parse_args(argv)
    if args.bench_command is None:
        parser.print_help(sys.stderr)
        return 2
    try:
        return run(args)
    except NasvizError as err:
        print(f"nasviz.bench: error: {' '.join(str(err).split())}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("nasviz.bench: interrupted; finished chunks are in the journal, run the same command to continue",
              file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
