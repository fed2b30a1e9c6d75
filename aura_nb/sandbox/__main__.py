"""`python -m aura_nb.sandbox serve|scenarios|generate ...`."""

from aura_nb.sandbox.program import main

raise SystemExit(main())
