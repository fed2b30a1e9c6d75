"""Content-addressed blob store under a run directory: `<run_dir>/blobs/sp_<12 hex>`.

A blob is written as a stream to a temporary file while its SHA-256, size and
newline index are computed, then renamed into place, so identical outputs are
stored once and a reader never sees half a blob. Temporary files are locked while
written; one left by a writer that was killed is removed when the store is next
opened. Each blob has a JSON sidecar
(`sp_<id>.json`) with its size, lines, shape, estimated tokens and a sparse
line index (newlines before every MiB), which lets line tools jump to line N
of a 1 GB blob without scanning it. Blob ids are validated strictly and blobs
are opened without following symlinks, so no id can name a file outside the
store.
"""

from __future__ import annotations

import bisect
import contextlib
import fcntl
import hashlib
import json
import logging
import mmap
import os
import re
import shutil
import stat
import tempfile
import time
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

from aura_nb.errors import ScratchpadError, ScratchpadErrorKind
from aura_nb.scratchpad.deadline import CHECK_EVERY, NEVER, Deadline
from aura_nb.scratchpad.estimate import TokenCounter, default_counter
from aura_nb.scratchpad.parts import derive as derive_parts
from aura_nb.textdata.shape import Detected, Shape, detect_shape

log = logging.getLogger(__name__)
BLOB_ID = re.compile(r"sp_[0-9a-f]{12,64}")
INDEX_CHUNK = 1 << 20
ENCODE_CHARS = 1 << 20
DEFAULT_JSON_LIMIT = 64 << 20
RELEASE_EVERY = 64 << 20


class StoreError(ScratchpadError, ValueError):
    """A blob id that is malformed, unknown or unsafe to open; the message is for the model."""

    kind: ScratchpadErrorKind = "unknown_blob"


@dataclass(frozen=True)
class Part:
    """A blob derived from another: the view tools read instead of it, or an addressable part of it."""

    name: str
    blob_id: str
    shape: Shape
    size: int
    what: str
    view: bool = False


@dataclass(frozen=True)
class BlobMeta:
    """What the store knows about a blob without reading it."""

    blob_id: str
    sha256: str
    size: int
    lines: int
    shape: Shape
    tokens: int
    note: str = ""
    source: str = ""
    created: float = 0.0
    line_index: tuple[int, ...] = (0,)
    """Newlines before byte `k * INDEX_CHUNK`, for every k."""
    detail: str = ""
    """What was recognised in it (a Prometheus result, a Python repr of rows, a diff)."""
    parts: tuple[Part, ...] = ()

    @property
    def view(self) -> Part | None:
        """The derived blob extraction tools read instead of this one, if any."""
        return next((p for p in self.parts if p.view), None)

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @staticmethod
    def from_json(text: str | bytes) -> BlobMeta:
        data: dict[str, Any] = json.loads(text)
        data["line_index"] = tuple(data["line_index"])
        data["parts"] = tuple(Part(**p) for p in data.get("parts", ()))
        return BlobMeta(**{k: v for k, v in data.items() if k in _META_FIELDS})  # a newer writer's extra keys


_META_FIELDS = {f.name for f in fields(BlobMeta)}


class Blob:
    """An open blob: its bytes (memory-mapped) and line navigation over them.

    Line scans check `deadline` (set by whoever bounds the work in time) every `CHECK_EVERY` lines.
    """

    def __init__(self, meta: BlobMeta, fd: int) -> None:
        self.meta = meta
        self.deadline: Deadline = NEVER
        self._map: mmap.mmap | None = mmap.mmap(fd, 0, access=mmap.ACCESS_READ) if meta.size else None
        self.data: mmap.mmap | bytes = self._map if self._map is not None else b""

    def close(self) -> None:
        if self._map is not None:
            with contextlib.suppress(BufferError):  # a scan stopped mid-way still holds a view: closed when freed
                self._map.close()
            self._map = None
            self.data = b""

    def __enter__(self) -> Blob:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def size(self) -> int:
        return self.meta.size

    def line_start(self, line: int) -> int:
        """Byte offset where 0-based `line` starts (the size when past the end)."""
        if line <= 0:
            return 0
        index = self.meta.line_index
        chunk = bisect.bisect_left(index, line) - 1  # last chunk with fewer than `line` newlines before it
        pos = chunk * INDEX_CHUNK
        for _ in range(line - index[chunk]):
            found = self.data.find(b"\n", pos)
            if found < 0:
                return self.size
            pos = found + 1
        return pos

    def line_of(self, pos: int) -> int:
        """0-based line number of byte `pos`."""
        chunk = min(pos // INDEX_CHUNK, len(self.meta.line_index) - 1)
        return self.meta.line_index[chunk] + self.data[chunk * INDEX_CHUNK : pos].count(b"\n")

    def line_numbers(self, offsets: Iterable[int]) -> list[int]:
        """0-based line numbers of ascending offsets, counting newlines between near neighbours."""
        numbers: list[int] = []
        previous = 0
        for offset in offsets:
            if numbers and offset - previous < INDEX_CHUNK:
                numbers.append(numbers[-1] + self.data[previous:offset].count(b"\n"))
            else:
                numbers.append(self.line_of(offset))
            previous = offset
        return numbers

    def line_end(self, start: int) -> int:
        """Offset of the newline ending the line that starts at `start` (the size for the last line)."""
        end = self.data.find(b"\n", start)
        return self.size if end < 0 else end

    def lines_from(self, start: int) -> Iterator[tuple[int, int]]:
        """(start, end) byte spans of the lines from offset `start` on, without their newlines.

        Pages already read are released every `RELEASE_EVERY` bytes, so a scan of a large blob keeps
        a bounded resident set (the pages stay in the page cache).
        """
        pos = start
        released = start
        steps = 0
        while pos < self.size:
            end = self.line_end(pos)
            yield pos, end
            pos = end + 1
            steps += 1
            if steps % CHECK_EVERY == 0:
                self.deadline.check()
            if pos - released >= RELEASE_EVERY:
                self.release(released, pos)
                released = pos

    def release(self, start: int, end: int) -> None:
        """Drop the mapping's resident pages in [start, end) (they are read again if touched)."""
        if self._map is None:
            return
        low = start - start % mmap.PAGESIZE
        high = end - end % mmap.PAGESIZE
        if high > low:
            self._map.madvise(mmap.MADV_DONTNEED, low, high - low)

    def text(self, start: int, end: int) -> str:
        return self.data[start:end].decode("utf-8", "replace")


def _open_regular(path: Path) -> int:
    """Open `path` read-only, refusing symlinks and anything but a regular file."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    except OSError as exc:
        raise StoreError(f"cannot open {path.name}: {exc.strerror}") from exc
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise StoreError(f"{path.name} is not a regular file")
    return fd


TEMP_PREFIX = ".tmp-"
NEWBORN_SECONDS = 60.0
"""An empty temporary file younger than this may be a writer's between its creation and its lock: kept."""


def _locked_temp(root: Path) -> tuple[int, Path]:
    """A new temporary file in `root`, locked (flock) for as long as its descriptor is open, so that a
    cleaner can tell a file being written from one left by a writer that died."""
    fd, name = tempfile.mkstemp(dir=root, prefix=TEMP_PREFIX)
    fcntl.flock(fd, fcntl.LOCK_EX)
    return fd, Path(name)


def remove_torn(root: Path) -> tuple[int, int]:
    """Delete the temporary files in `root` whose writer is gone (killed mid-store); (files, bytes) removed.
    A file still locked by a live writer is left alone, and so is a newborn one (empty and young: its writer
    may not have locked it yet)."""
    removed = freed = 0
    for path in root.glob(TEMP_PREFIX + "*"):
        try:
            fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
        except OSError:
            continue  # gone meanwhile, or not a regular file we made
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            continue  # a live writer holds it
        try:
            status = os.fstat(fd)
            if status.st_size == 0 and time.time() - status.st_mtime < NEWBORN_SECONDS:
                continue
            path.unlink(missing_ok=True)
            removed, freed = removed + 1, freed + status.st_size
        finally:
            os.close(fd)
    return removed, freed


class _Writer:
    """Streams chunks to a locked temporary file, hashing and indexing newlines on the way."""

    def __init__(self, root: Path) -> None:
        fd, self.path = _locked_temp(root)
        self.file = os.fdopen(fd, "wb")
        self.hash = hashlib.sha256()
        self.size = 0
        self.newlines = 0
        self.index = [0]
        self.last = b""

    def write(self, chunk: bytes) -> None:
        if not chunk:
            return
        self.file.write(chunk)
        self.hash.update(chunk)
        boundary = len(self.index) * INDEX_CHUNK
        while boundary <= self.size + len(chunk):
            self.index.append(self.newlines + chunk.count(b"\n", 0, boundary - self.size))
            boundary += INDEX_CHUNK
        self.newlines += chunk.count(b"\n")
        self.size += len(chunk)
        self.last = chunk[-1:]

    @property
    def lines(self) -> int:
        return self.newlines + (1 if self.size and self.last != b"\n" else 0)


class BlobStore:
    """Blobs of one run, under `<run_dir>/blobs/`."""

    def __init__(
        self, run_dir: Path, *, counter: TokenCounter | None = None, json_limit: int = DEFAULT_JSON_LIMIT
    ) -> None:
        self.root = run_dir / "blobs"
        self.counter = counter or default_counter()
        self.json_limit = json_limit
        self.torn = (0, 0)
        """(files, bytes) of temporary files left by a writer that died, removed when the store was opened."""
        if self.root.is_dir() and not self.root.is_symlink():
            self.torn = remove_torn(self.root)
            if self.torn[0]:
                log.warning("removed %d temporary files (%d bytes) of interrupted stores in %s", *self.torn, self.root)

    def _ensure_root(self) -> Path:
        if self.root.is_symlink():
            raise StoreError(f"{self.root} is a symlink; refusing to use it as a blob store")
        self.root.mkdir(parents=True, exist_ok=True)
        return self.root

    def _path(self, blob_id: str, suffix: str = "") -> Path:
        if not isinstance(blob_id, str) or not BLOB_ID.fullmatch(blob_id):
            raise StoreError(f"blob_id {str(blob_id)[:80]!r} is not a blob id (expected sp_ and 12 hex digits)")
        root = self.root.resolve()
        path = self.root / (blob_id + suffix)
        if path.resolve().parent != root:
            raise StoreError(f"blob_id {blob_id!r} resolves outside the blob store")
        return path

    def put(self, chunks: Iterable[bytes], *, source: str = "", derive: bool = True) -> BlobMeta:
        """Store a stream of bytes; returns the (possibly already existing) blob's metadata. With `derive`,
        its view and parts (`parts.derive`) are stored too and listed in its metadata."""
        writer = _Writer(self._ensure_root())
        try:
            with writer.file:  # kept open (and locked) until the blob is in place
                for chunk in chunks:
                    writer.write(chunk)
                writer.file.flush()
                return self._commit(writer, source, derive)
        finally:
            writer.path.unlink(missing_ok=True)

    def put_text(self, parts: Iterable[str], *, source: str = "") -> BlobMeta:
        """Store text given as parts, encoding slices of a MiB so a large string is never copied whole."""

        def chunks() -> Iterator[bytes]:
            for part in parts:
                for offset in range(0, len(part), ENCODE_CHARS):
                    yield part[offset : offset + ENCODE_CHARS].encode("utf-8", "surrogatepass")

        return self.put(chunks(), source=source)

    def _commit(self, writer: _Writer, source: str, derive: bool) -> BlobMeta:
        digest = writer.hash.hexdigest()
        for length in (12, 16, 24, 32, 64):  # a longer id only on a 48-bit prefix collision
            blob_id = "sp_" + digest[:length]
            if not self._path(blob_id, ".json").exists():
                break
            existing = self.meta(blob_id)
            if existing.sha256 == digest:
                return existing
        meta = self._describe(writer, blob_id, digest, source, derive)
        os.replace(writer.path, self._path(blob_id))
        self._write_meta(meta)
        return meta

    def _describe(self, writer: _Writer, blob_id: str, digest: str, source: str, derive: bool) -> BlobMeta:
        fd = _open_regular(writer.path)
        try:
            detected, tokens, parts = self._inspect(fd, writer.size, writer.lines, blob_id if derive else None)
        finally:
            os.close(fd)
        return BlobMeta(
            blob_id=blob_id,
            sha256=digest,
            size=writer.size,
            lines=writer.lines,
            shape=detected.shape,
            tokens=tokens,
            note=detected.note,
            source=source,
            created=time.time(),
            line_index=tuple(writer.index),
            detail=detected.detail,
            parts=parts,
        )

    def _inspect(self, fd: int, size: int, lines: int, owner: str | None) -> tuple[Detected, int, tuple[Part, ...]]:
        """Shape, tokens and (for `owner`, the blob being stored) its derived view and parts."""
        if size == 0:
            return Detected("empty"), 0, ()
        with mmap.mmap(fd, 0, access=mmap.ACCESS_READ) as data:
            detected = detect_shape(data, json_limit=self.json_limit)
            tokens = self.counter.count_bytes(data)
            if owner is None:
                return detected, tokens, ()
            stored = []
            for derived in derive_parts(data, detected, lines):
                meta = self.put(derived.chunks, source=f"{owner} {derived.name}", derive=False)
                stored.append(Part(derived.name, meta.blob_id, meta.shape, meta.size, derived.what, derived.view))
            return detected, tokens, tuple(stored)

    def _write_meta(self, meta: BlobMeta) -> None:
        fd, path = _locked_temp(self.root)
        with os.fdopen(fd, "w") as f:
            f.write(meta.to_json())
            f.flush()
            os.replace(path, self._path(meta.blob_id, ".json"))

    def meta(self, blob_id: str) -> BlobMeta:
        """The metadata of a stored blob; `StoreError` naming the known ids when there is none."""
        path = self._path(blob_id, ".json")
        if not path.exists() and not path.is_symlink():
            known = ", ".join(m.blob_id for m in self.list()) or "none yet"
            raise StoreError(f"no blob {blob_id!r} in this run (stored blobs: {known})")
        fd = _open_regular(path)
        with os.fdopen(fd, "rb") as f:
            return BlobMeta.from_json(f.read())

    def open(self, blob_id: str) -> Blob:
        """Open a blob for reading (memory-mapped); close it, or use it as a context manager."""
        meta = self.meta(blob_id)
        fd = _open_regular(self._path(blob_id))
        try:
            if os.fstat(fd).st_size != meta.size:
                raise StoreError(f"blob {blob_id!r} does not match its recorded size")
            return Blob(meta, fd)
        finally:
            os.close(fd)

    def adopt(self, source: BlobStore, blob_id: str) -> BlobMeta:
        """Bring another run's blob into this store (a hard link when possible, else a copy)."""
        meta = source.meta(blob_id)
        if self._path(blob_id, ".json").exists():
            return meta
        self._ensure_root()
        for suffix in ("", ".json"):
            target, origin = self._path(blob_id, suffix), source._path(blob_id, suffix)
            if target.resolve() == origin.resolve():
                continue
            try:
                os.link(origin, target)
            except OSError:
                shutil.copyfile(origin, target)
        return meta

    def list(self) -> list[BlobMeta]:
        """Every complete blob, oldest first."""
        if not self.root.is_dir() or self.root.is_symlink():
            return []
        metas: list[BlobMeta] = []
        for path in self.root.glob("sp_*.json"):
            blob_id = path.name.removesuffix(".json")
            if BLOB_ID.fullmatch(blob_id) and not path.is_symlink():
                metas.append(self.meta(blob_id))
        return sorted(metas, key=lambda m: m.created)
