"""Summaries and the HTML report of a suite's result rows (`run_suite`'s DataFrame).

`summary` aggregates per config; `side_by_side` puts configs next to each other with ratios to the first
(the `--vs` view); `html_report` writes one self-contained page (plotly embedded, works offline) with
the tables, score per case, outcome against tokens, findings by kind and the worst runs linked to their
run directories.
"""

from __future__ import annotations

import html
import json
import os
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from aura_nb.bench.suite import CRITERIA

WORST_RUNS = 10
MEANS = (
    "total_input_tokens",
    "output_tokens",
    "tool_calls",
    "tool_errors",
    "chaos_injections",
    "duration_s",
    "findings_warning",
    "findings_error",
)
"""Measures averaged per config in the summary."""


def configs_in_order(df: pd.DataFrame) -> list[str]:
    """Config names in the order they first appear."""
    return list(dict.fromkeys(df["config"]))


def graded_criteria(df: pd.DataFrame) -> list[str]:
    """The criteria at least one row was graded on."""
    return [name for name in CRITERIA if name in df and df[name].notna().any()]


def _numeric(series: pd.Series) -> pd.Series:
    return pd.to_numeric(series, errors="coerce")


def _share(flags: pd.Series) -> float:
    """The share of true values among those known (NaN when none is)."""
    known = flags.dropna()
    return float(known.astype(bool).mean()) if len(known) else float("nan")


def summary(df: pd.DataFrame) -> pd.DataFrame:
    """Per config (index): runs, errors, mean score, accuracy (of the runs whose correctness is known), mean
    tokens, tool calls, failed tool calls, chaos injections and wall time, findings per run by severity, and
    the pass rate of each graded criterion (`pass:<criterion>`)."""
    rows: dict[str, dict[str, float]] = {}
    criteria = graded_criteria(df)
    for config in configs_in_order(df):
        part = df[df["config"] == config]
        row: dict[str, float] = {
            "runs": float(len(part)),
            "errors": float(part["error"].notna().sum()),
            "score": float(_numeric(part["score"]).mean()),
            "accuracy": _share(part["correct"]),
        }
        for column in MEANS:
            row[column] = float(_numeric(part[column]).mean())
        for name in criteria:
            row[f"pass:{name}"] = _share(part[name])
        rows[config] = row
    table = pd.DataFrame.from_dict(rows, orient="index")
    table.index.name = "config"
    return table


def side_by_side(table: pd.DataFrame) -> pd.DataFrame:
    """Metrics as rows, configs as columns, then `<config>/<first>` ratios for every other config."""
    wide = table.T
    configs = list(wide.columns)
    base = configs[0]
    for other in configs[1:]:
        ratio = wide[other] / wide[base].where(wide[base] != 0)
        wide[f"{other}/{base}"] = ratio
    wide.columns.name = None
    return wide


def number(value: Any) -> str:
    """A table cell: `-` for NaN, thousands separated from 1000 on, else 3 significant digits."""
    if isinstance(value, float):
        if value != value:
            return "-"
        return f"{value:,.0f}" if abs(value) >= 1000 else f"{value:.3g}"
    return str(value)


def format_table(table: pd.DataFrame) -> str:
    """A table as aligned text."""
    text: str = table.to_string(formatters={column: number for column in table.columns}, na_rep="-")
    return text


def _html_table(table: pd.DataFrame) -> str:
    text: str = table.to_html(formatters={column: number for column in table.columns}, na_rep="-")
    return text


def failed_criteria(row: pd.Series) -> list[str]:
    """The criteria a result row failed."""
    return [name for name in CRITERIA if isinstance(row.get(name), bool | np.bool_) and not row.get(name)]


def figures(df: pd.DataFrame) -> dict[str, Any]:
    """Plotly figures: score per case, outcome vs tokens, findings by kind (keys are their titles)."""
    import plotly.express as px

    palette = px.colors.qualitative.Plotly
    colors = {c: palette[i % len(palette)] for i, c in enumerate(configs_in_order(df))}
    scores = df.groupby(["case", "config"], sort=False, as_index=False)["score"].mean()
    by_case = px.bar(
        scores, x="case", y="score", color="config", color_discrete_map=colors, barmode="group", range_y=[0, 1]
    )
    points = df.assign(
        tokens=_numeric(df["total_input_tokens"]) + _numeric(df["output_tokens"]),
        outcome=df["correct"].map({True: "correct", False: "wrong"}).fillna("wrong"),
    )
    scatter = px.scatter(
        points.dropna(subset=["tokens"]),
        x="tokens",
        y="score",
        color="config",
        color_discrete_map=colors,
        symbol="outcome",
        hover_data=["case", "repeat", "run_id"],
        range_y=[-0.05, 1.05],
    )
    counts = [
        {"config": row["config"], "kind": kind, "count": count}
        for _, row in df.iterrows()
        if isinstance(row["findings"], dict)
        for kind, count in row["findings"].items()
    ]
    kinds = pd.DataFrame(counts, columns=["config", "kind", "count"])
    kinds = kinds.groupby(["kind", "config"], sort=False, as_index=False)["count"].sum()
    by_kind = px.bar(kinds, x="kind", y="count", color="config", color_discrete_map=colors, barmode="group")
    return {"Score per case": by_case, "Outcome vs tokens": scatter, "Findings by kind": by_kind}


def _link(target: str | None, base: Path, label: str) -> str:
    if not target:
        return ""
    relative = os.path.relpath(target, base)
    return f'<a href="{html.escape(relative)}">{html.escape(label)}</a>'


def worst_runs(df: pd.DataFrame, n: int = WORST_RUNS) -> pd.DataFrame:
    """The `n` lowest-scoring runs (errors first among equals)."""
    ranked = df.assign(_errored=df["error"].isna(), _score=_numeric(df["score"]))
    return ranked.sort_values(["_score", "_errored", "case"]).head(n).drop(columns=["_errored", "_score"])


def _worst_table(df: pd.DataFrame, base: Path) -> str:
    lines = [
        "<table><tr><th>case</th><th>config</th><th>#</th><th>score</th><th>correct</th>"
        "<th>failed</th><th>error</th><th>run</th></tr>"
    ]
    for _, row in worst_runs(df).iterrows():
        run_dir = row["run_dir"]
        events = str(Path(run_dir) / "events.jsonl") if run_dir else None
        links = " ".join(filter(None, [_link(run_dir, base, str(row["run_id"])), _link(events, base, "events.jsonl")]))
        cells = [
            row["case"],
            row["config"],
            row["repeat"],
            f"{row['score']:.2f}",
            "✓" if row["correct"] else "✗",
            ", ".join(failed_criteria(row)),
            row["error"] or "",
        ]
        lines.append("<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in cells) + f"<td>{links}</td></tr>")
    return "\n".join([*lines, "</table>"])


_STYLE = """
body { font-family: system-ui, sans-serif; margin: 2em; color: #222; }
table { border-collapse: collapse; margin: 1em 0; font-size: 0.9em; }
th, td { border: 1px solid #ccc; padding: 0.25em 0.6em; text-align: right; }
th { background: #f4f4f4; }
"""


def html_report(df: pd.DataFrame, path: Path, *, title: str = "aura_nb benchmark") -> Path:
    """Write a self-contained HTML report (plotly.js inlined) of the rows to `path`; returns `path`."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    table = summary(df)
    parts = [
        f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>",
        f"<style>{_STYLE}</style></head><body><h1>{html.escape(title)}</h1>",
        f"<p>{len(df)} run(s), generated {html.escape(time.strftime('%Y-%m-%d %H:%M:%S'))}.</p>",
        "<h2>Summary</h2>",
        _html_table(table),
    ]
    if len(table) > 1:
        parts += ["<h2>Side by side</h2>", _html_table(side_by_side(table))]
    for i, (name, figure) in enumerate(figures(df).items()):
        figure.update_layout(title=name)
        parts += [f"<h2>{html.escape(name)}</h2>", figure.to_html(full_html=False, include_plotlyjs=i == 0)]
    parts += ["<h2>Worst runs</h2>", _worst_table(df, path.parent), "</body></html>"]
    path.write_text("\n".join(parts), encoding="utf-8")
    return path


def _jsonable(value: Any) -> Any:
    if isinstance(value, float) and value != value:
        return None
    if hasattr(value, "item"):
        return value.item()
    return value


def records(df: pd.DataFrame) -> list[dict[str, Any]]:
    """The rows as JSON-ready dicts (NaN as None)."""
    return [{key: _jsonable(value) for key, value in row.items()} for row in df.to_dict(orient="records")]


def write_results(df: pd.DataFrame, out_dir: Path, *, title: str = "aura_nb benchmark") -> dict[str, Path]:
    """`results.csv`, `results.json` and `report.html` in `out_dir`; returns their paths by kind."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    flat = df.copy()
    for column in flat.columns:
        if flat[column].map(lambda v: isinstance(v, (dict, list))).any():
            flat[column] = flat[column].map(lambda v: json.dumps(v) if isinstance(v, (dict, list)) else v)
    paths = {"csv": out_dir / "results.csv", "json": out_dir / "results.json", "html": out_dir / "report.html"}
    flat.to_csv(paths["csv"], index=False)
    paths["json"].write_text(json.dumps(records(df), indent=1, default=str) + "\n")
    html_report(df, paths["html"], title=title)
    return paths
