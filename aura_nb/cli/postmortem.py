"""`aura-nb postmortem RUN`: write a run's postmortem from its directory alone (no servers; no model unless
the LLM writer is asked for)."""

from __future__ import annotations

import argparse
from pathlib import Path

from aura_nb.cli.common import add_dir_option
from aura_nb.config import load_settings, resolve_runs_dir
from aura_nb.trace.runlog import find_run_dir


def _cmd_postmortem(args: argparse.Namespace) -> int:
    from aura_nb.models.factory import make_model, parse_model  # SDKs and plotly: only when the command runs
    from aura_nb.report import format_of, postmortem

    run_dir = find_run_dir(resolve_runs_dir(args.dir), args.run)
    model = None
    if args.model or args.writer == "llm":
        configured = load_settings().model
        model = make_model(parse_model(args.model, configured) if args.model else configured)
    out = Path(args.out) if args.out else Path(f"postmortem-{run_dir.name}.{args.format or 'md'}")
    chosen = format_of(out, args.format)
    written = postmortem(run_dir, model=model).save(out, chosen)
    print(written.resolve())
    return 0


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser("postmortem", help="write a run's postmortem (Markdown, HTML or notebook)")
    parser.add_argument("run", metavar="RUN", help="run id (a unique prefix is enough)")
    add_dir_option(parser)
    parser.add_argument("--format", choices=["md", "html", "ipynb"], help="default: from --out's suffix, else md")
    parser.add_argument("--out", help="where to write it (default: ./postmortem-RUN.FORMAT)")
    parser.add_argument(
        "--writer",
        choices=["offline", "llm"],
        default="offline",
        help="offline (default: deterministic, from the events) or llm (the configured model drafts the prose)",
    )
    parser.add_argument("--model", help="PROVIDER[:NAME] for the LLM writer (implies --writer llm)")
    parser.set_defaults(func=_cmd_postmortem)
