"""`Findings`: a run's findings as a list that shows itself as a table (notebook HTML, plain text, a DataFrame)."""

from __future__ import annotations

import html
from collections.abc import Iterable
from typing import Any

import pandas as pd

from aura_nb.trace.findings.base import Finding, step_list

FINDING_COLUMNS = ["severity", "kind", "agent", "steps", "explanation", "suggestion", "cost"]
_HEADINGS = ("severity", "kind", "agent", "steps", "what happened", "what to do", "cost")
_SEVERITY_COLOURS = {"error": "#b3261e", "warning": "#9a6700", "info": "#57606a"}


def _row(finding: Finding) -> dict[str, Any]:
    row: dict[str, Any] = {column: getattr(finding, column) for column in FINDING_COLUMNS}
    row |= {f"cost_{key}": value for key, value in finding.cost.items()}
    return row


def findings_frame(findings: Iterable[Finding]) -> pd.DataFrame:
    """One row per finding: `FINDING_COLUMNS` plus one `cost_<key>` column per cost key present."""
    rows = [_row(f) for f in findings]
    extra = sorted({key for row in rows for key in row if key not in FINDING_COLUMNS})
    return pd.DataFrame(rows, columns=FINDING_COLUMNS + extra)


def _cost(finding: Finding) -> str:
    return ", ".join(f"{key} {value:,.2f}".rstrip("0").rstrip(".") for key, value in finding.cost.items())


class Findings(list[Finding]):
    """What `Run.findings()` returns: the findings, most severe first, shown as a table in a notebook."""

    def frame(self) -> pd.DataFrame:
        """One row per finding (see `findings_frame`)."""
        return findings_frame(self)

    def to_json(self) -> list[dict[str, Any]]:
        return [finding.to_json() for finding in self]

    def counts(self) -> dict[str, int]:
        """How many findings of each severity."""
        return {s: sum(1 for f in self if f.severity == s) for s in ("error", "warning", "info")}

    def __str__(self) -> str:
        if not self:
            return "no findings"
        lines = [", ".join(f"{n} {s}" for s, n in self.counts().items() if n)]
        for f in self:
            where = step_list(f.steps) if f.steps else "run"
            lines.append(f"[{f.severity}] {f.kind} ({where}{', ' + f.agent if f.agent else ''}): {f.explanation}")
            lines.append(f"    -> {f.suggestion}")
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        if not self:
            return "<p><em>No findings.</em></p>"
        head = "".join(f"<th style='text-align:left'>{c}</th>" for c in _HEADINGS)
        rows = []
        for f in self:
            colour = _SEVERITY_COLOURS[f.severity]
            cells = [
                f"<td style='color:{colour};font-weight:600'>{f.severity}</td>",
                f"<td><code>{html.escape(f.kind)}</code></td>",
                f"<td>{html.escape(f.agent or '')}</td>",
                f"<td>{html.escape(', '.join(map(str, f.steps)))}</td>",
                f"<td style='text-align:left'>{html.escape(f.explanation)}</td>",
                f"<td style='text-align:left'>{html.escape(f.suggestion)}</td>",
                f"<td>{html.escape(_cost(f))}</td>",
            ]
            rows.append(f"<tr data-finding='{html.escape(f.id, quote=True)}'>{''.join(cells)}</tr>")
        summary = html.escape(str(self).split("\n", 1)[0])
        return (
            f"<div class='aura-findings'><p><strong>Findings</strong>: {summary}</p>"
            f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table></div>"
        )

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, Any]:
        return {"text/plain": str(self), "text/html": self._repr_html_()}
