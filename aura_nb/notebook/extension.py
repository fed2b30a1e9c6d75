"""`%load_ext aura_nb`, kept cheap: it registers stand-ins for `%aura`/`%%aura` and the record's display.

The engine, the models, the MCP client and the record (`aura_nb.notebook.magics` and what it imports) load
on the first `%aura` or `%%aura`, which then registers the real magics in the stand-ins' place; the display
of a `RunRecord` and of a `Comparison` is registered by module and type name, so neither is imported until
a notebook shows one.
"""

from __future__ import annotations

from typing import Any

from IPython.core.magic import Magics, cell_magic, line_magic, magics_class, no_var_expand


def _real(shell: Any) -> Any:
    """The real magics (registered on first use, replacing the stand-ins)."""
    magics = getattr(shell, "_aura_magics", None)
    if magics is None:
        from aura_nb.notebook.magics import load_ipython_extension

        load_ipython_extension(shell)
        magics = shell._aura_magics
    return magics


@magics_class
class DeferredMagics(Magics):
    """`%aura` and `%%aura` until their first use (then `aura_nb.notebook.magics.AuraMagics`)."""

    @cell_magic
    def aura(self, line: str, cell: str) -> Any:
        return _real(self.shell).aura(line, cell)

    @no_var_expand
    @line_magic("aura")  # type: ignore[arg-type]
    def aura_line(self, line: str) -> Any:
        return _real(self.shell).aura_line(line)


def _record_bundle(run: Any, include: Any = None, exclude: Any = None) -> Any:
    from aura_nb.notebook.bundle import run_mimebundle

    return run_mimebundle(run, include, exclude)


def _comparison_html(comparison: Any) -> str:
    from aura_nb.notebook.bundle import comparison_display

    return comparison_display(comparison)


def load_ipython_extension(shell: Any) -> None:
    """Register the stand-in magics (or, on a reload, the real ones again) and the displays, by name."""
    if getattr(shell, "_aura_magics", None) is not None:
        from aura_nb.notebook.magics import load_ipython_extension as reload

        reload(shell)
        return
    shell.register_magics(DeferredMagics(shell))
    formatters = shell.display_formatter
    formatters.mimebundle_formatter.for_type_by_name("aura_nb.trace.record", "RunRecord", _record_bundle)
    formatters.formatters["text/html"].for_type_by_name("aura_nb.trace.compare", "Comparison", _comparison_html)
