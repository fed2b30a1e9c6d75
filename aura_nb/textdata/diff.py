"""Unified diffs (`git diff`, `diff -u`): files and hunks, with line numbers and what changed."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

_GIT = re.compile(r"^diff --git a/(.+?) b/(.+)$")
_OLD = re.compile(r"^--- (?:a/)?(\S+)")
_NEW = re.compile(r"^\+\+\+ (?:b/)?(\S+)")
_HUNK = re.compile(r"^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@(.*)$")


@dataclass
class Hunk:
    line: int
    """1-based line of the `@@` header in the diff."""
    header: str
    added: int = 0
    removed: int = 0


@dataclass
class FileDiff:
    path: str
    line: int
    hunks: list[Hunk] = field(default_factory=list)

    @property
    def added(self) -> int:
        return sum(h.added for h in self.hunks)

    @property
    def removed(self) -> int:
        return sum(h.removed for h in self.hunks)


def looks_like_diff(lines: list[str]) -> bool:
    """A `diff --git` header, or `---`/`+++` file headers followed by an `@@` hunk, among `lines`."""
    for i, line in enumerate(lines):
        if _GIT.match(line):
            return True
        if line.startswith("--- ") and i + 2 < len(lines) and lines[i + 1].startswith("+++ "):
            return _HUNK.match(lines[i + 2]) is not None
    return False


def parse_diff(lines: list[str]) -> list[FileDiff]:
    """The files of a unified diff, each with its hunks and counts of added and removed lines."""
    files: list[FileDiff] = []
    for number, line in enumerate(lines, start=1):
        git = _GIT.match(line)
        if git:
            files.append(FileDiff(git.group(2), number))
            continue
        new = _NEW.match(line)
        if new and (not files or files[-1].hunks):
            old = _OLD.match(lines[number - 2]) if number >= 2 else None
            path = new.group(1) if new.group(1) != "/dev/null" or old is None else old.group(1)
            files.append(FileDiff(path, number - 1))
            continue
        hunk = _HUNK.match(line)
        if hunk and files:
            files[-1].hunks.append(Hunk(number, line))
        elif files and files[-1].hunks and not line.startswith(("+++", "---")):
            if line.startswith("+"):
                files[-1].hunks[-1].added += 1
            elif line.startswith("-"):
                files[-1].hunks[-1].removed += 1
    return files


def describe(files: list[FileDiff]) -> str:
    hunks = sum(len(f.hunks) for f in files)
    added, removed = sum(f.added for f in files), sum(f.removed for f in files)
    return f"unified diff: {len(files):,} files, {hunks:,} hunks, +{added:,} −{removed:,} lines"
