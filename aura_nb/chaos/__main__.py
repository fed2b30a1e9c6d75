"""`python -m aura_nb.chaos [--profile P | --config FILE] -- COMMAND ...` (the same as `aura-nb chaos`)."""

from aura_nb.chaos.commands import main

raise SystemExit(main())
