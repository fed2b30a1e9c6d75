"""The planted-behaviour corpus for the findings: scripted runs over real MCP servers, one planted misbehaviour
each, and clean traps (legitimate patterns a naive analyser would flag). `CASES` lists them all (importing the
modules below registers their cases)."""

from . import duplicates, errors, held_out, iterations, latency, parallelism, plan, scratchpad, tokens, unseen, usage
from .case import CASES, Case, Env, Expect

MODULES = (duplicates, errors, iterations, latency, parallelism, plan, scratchpad, tokens, usage, held_out, unseen)
"""Dev cases by category, then the two held-out batches."""

__all__ = ["CASES", "MODULES", "Case", "Env", "Expect"]
