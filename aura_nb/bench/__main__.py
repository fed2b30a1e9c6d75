"""`python -m aura_nb.bench [SUITE] [options]`: the `aura-nb bench` command."""

import sys

from aura_nb.bench.commands import main

if __name__ == "__main__":
    sys.exit(main())
