"""`python -m aura_nb.sandbox serve|scenarios|generate ...`."""

from aura_nb.sandbox.commands import main

raise SystemExit(main())
