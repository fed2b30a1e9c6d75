"""The durable, static record of a run for notebooks: a versioned JSON document, HTML, a mime bundle.

Imported on first use (`%load_ext aura_nb` imports only the magics)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aura_nb.lazy import lazy_getattr

if TYPE_CHECKING:
    from aura_nb.notebook.bundle import (
        MIME_TYPE,
        SCHEMA_VERSION,
        run_bundle,
        run_document,
        run_metadata,
        run_mimebundle,
        run_schema,
        run_text,
    )
    from aura_nb.notebook.html import run_html

_BUNDLE = ("MIME_TYPE", "SCHEMA_VERSION", "run_bundle", "run_document", "run_metadata", "run_mimebundle")
_EXPORTS = {name: "aura_nb.notebook.bundle" for name in (*_BUNDLE, "run_schema", "run_text")}
_EXPORTS["run_html"] = "aura_nb.notebook.html"
__getattr__ = lazy_getattr(globals(), _EXPORTS)

__all__ = [
    "MIME_TYPE",
    "SCHEMA_VERSION",
    "run_bundle",
    "run_document",
    "run_html",
    "run_metadata",
    "run_mimebundle",
    "run_schema",
    "run_text",
]
