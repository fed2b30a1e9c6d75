"""Runs one Python regex search over a file in a child process, so the caller can kill it at a deadline.

Used for the patterns ripgrep cannot run (look-around, backreferences). Standard
library only (it runs with `python -I -S`). Reads a JSON request from its argument, writes
a JSON answer on stdout: the number of matching lines and the byte offsets where
the first `max_hits` of them start. A match that spans a newline counts only if
the line it starts on matches on its own, so results agree with line-oriented grep.
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


def main() -> None:
    request = json.loads(sys.argv[1])
    flags = re.MULTILINE | (re.IGNORECASE if request["ignore_case"] else 0)
    rx = re.compile(request["pattern"].encode("utf-8"), flags)
    with open(request["path"], "rb") as f:
        size = os.fstat(f.fileno()).st_size
        if size == 0:
            print(json.dumps({"count": 0, "hits": []}))
            return
        hard = resource.getrlimit(resource.RLIMIT_AS)[1]
        soft = size + (1 << 31)  # the mapping plus 2 GiB: a runaway pattern fails instead of exhausting memory
        resource.setrlimit(resource.RLIMIT_AS, (soft if hard == resource.RLIM_INFINITY else min(soft, hard), hard))
        with mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as data:
            count, hits = search(data, size, rx, request["max_hits"])
    print(json.dumps({"count": count, "hits": hits}))


if __name__ == "__main__":
    main()
