"""The durable, static record of a run for notebooks: a versioned JSON document, HTML, a mime bundle."""

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
