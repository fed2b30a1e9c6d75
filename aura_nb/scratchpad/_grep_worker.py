"""Runs one regex search over a file in a child process, so the caller can kill it at a deadline.

Standard library only (it runs with `python -I -S`). Reads a JSON request on
stdin, writes a JSON answer on stdout: the number of matching lines and the
byte offsets where the first `max_hits` of them start. A match that spans a
newline counts only if the line it starts on matches on its own, so results
agree with line-oriented grep.
"""

import json
import mmap
import os
import re
import resource
import sys


def search(data: mmap.mmap, size: int, rx: re.Pattern[bytes], max_hits: int) -> tuple[int, list[int]]:
    count, pos = 0, 0
    hits: list[int] = []
    while pos < size:
        match = rx.search(data, pos)
        if match is None:
            break
        start = data.rfind(b"\n", 0, match.start()) + 1
        if start == size:
            break  # the empty "line" after a final newline
        end = data.find(b"\n", match.start())
        end = size if end < 0 else end
        if match.end() <= end or rx.search(data[start:end]) is not None:
            count += 1
            if len(hits) < max_hits:
                hits.append(start)
        pos = end + 1
    return count, hits


_META = re.compile(r"[.^$*+?{}\[\]\\()]")


def literal_branches(pattern: str) -> list[bytes] | None:
    """The branches of an alternation of two or more literals, which `find` searches faster than `re`."""
    branches = pattern.split("|")
    if len(branches) < 2 or any(not branch or _META.search(branch) for branch in branches):
        return None
    return [branch.encode("utf-8") for branch in branches]


def search_literals(data: mmap.mmap, size: int, literals: list[bytes], max_hits: int) -> tuple[int, list[int]]:
    """Like `search` for literal branches: a merge over each literal's next occurrence, found with `find`."""
    count = 0
    hits: list[int] = []
    cursors = [data.find(literal) for literal in literals]
    while True:
        live = [c for c in cursors if c >= 0]
        if not live:
            break
        first = min(live)
        start = data.rfind(b"\n", 0, first) + 1
        end = data.find(b"\n", first)
        end = size if end < 0 else end
        count += 1
        if len(hits) < max_hits:
            hits.append(start)
        cursors = [c if c < 0 or c > end else data.find(lit, end + 1) for c, lit in zip(cursors, literals, strict=True)]
    return count, hits


def main() -> None:
    request = json.loads(sys.stdin.read())
    flags = re.MULTILINE | (re.IGNORECASE if request["ignore_case"] else 0)
    try:
        rx = re.compile(request["pattern"].encode("utf-8"), flags)
    except (re.error, OverflowError, RecursionError) as exc:
        print(json.dumps({"error": str(exc)}))
        return
    with open(request["path"], "rb") as f:
        size = os.fstat(f.fileno()).st_size
        if size == 0:
            print(json.dumps({"count": 0, "hits": []}))
            return
        hard = resource.getrlimit(resource.RLIMIT_AS)[1]
        soft = size + (1 << 31)  # the mapping plus 2 GiB: a runaway pattern fails instead of exhausting memory
        resource.setrlimit(resource.RLIMIT_AS, (soft if hard == resource.RLIM_INFINITY else min(soft, hard), hard))
        literals = None if request["ignore_case"] else literal_branches(request["pattern"])
        with mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as data:
            if literals is not None:
                count, hits = search_literals(data, size, literals, request["max_hits"])
            else:
                count, hits = search(data, size, rx, request["max_hits"])
    print(json.dumps({"count": count, "hits": hits}))


if __name__ == "__main__":
    main()
