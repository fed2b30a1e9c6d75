"""The Scratchpad: oversized tool outputs are stored, the model gets a stub and extraction tools.

- `interceptor.Scratchpad` wraps a Toolbox: stores results above the token threshold, returns a stub,
  serves `scratchpad.*` extraction tools and emits `scratchpad_stored` / `scratchpad_extracted`.
- `store.BlobStore`: content-addressed blobs under `<run_dir>/blobs/`, written as a stream.
- `estimate`: token estimation; `budget`: per-call and per-run caps; `stub`: what the model sees.
- Tools: `extract` (head, tail, slice, read), `grep`, `schema`, `jsonpath` (get_in, iterate_over,
  item_schema), `patterns` (log templates), `stats`; `tools` lists them as the model sees them.
- Shape detection, timestamps and template mining are pure text analysis in `aura_nb.textdata`.
- `commands`: `aura-nb patterns` and `aura-nb scratchpad`.
"""

from aura_nb.scratchpad.budget import ContextBudget
from aura_nb.scratchpad.errors import ExtractionError
from aura_nb.scratchpad.estimate import TokenCounter, default_counter
from aura_nb.scratchpad.interceptor import Scratchpad
from aura_nb.scratchpad.store import Blob, BlobMeta, BlobStore, StoreError
from aura_nb.scratchpad.tools import TOOLS, ExtractLimits

__all__ = [
    "TOOLS",
    "Blob",
    "BlobMeta",
    "BlobStore",
    "ContextBudget",
    "ExtractLimits",
    "ExtractionError",
    "Scratchpad",
    "StoreError",
    "TokenCounter",
    "default_counter",
]
