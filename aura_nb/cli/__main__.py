"""`python -m aura_nb.cli ...`: the `aura-nb` command."""

import sys

from aura_nb.cli import main

sys.exit(main())
