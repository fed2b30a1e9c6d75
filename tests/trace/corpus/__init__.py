"""The planted-behaviour corpus for the findings: scripted runs over real MCP servers, one planted misbehaviour
each, and clean traps (legitimate patterns a naive analyser would flag). `CASES` lists them all."""

from . import duplicates, errors, held_out, latency, parallelism, plan, scratchpad, tokens, usage
from .case import CASES, Case, Env, Expect

__all__ = [
    "CASES",
    "Case",
    "Env",
    "Expect",
    "duplicates",
    "errors",
    "held_out",
    "latency",
    "parallelism",
    "plan",
    "scratchpad",
    "tokens",
    "usage",
]
