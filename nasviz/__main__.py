"""``python -m nasviz``: the command line (see :mod:`nasviz.cli`)."""

import sys

from .cli import main

if __name__ == "__main__":
    sys.exit(main())
