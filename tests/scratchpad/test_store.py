"""The blob store: content addressing, streaming writes with a line index, and no way out of the store."""

from __future__ import annotations

import hashlib
import os
import random
from collections.abc import Iterator
from pathlib import Path

import pytest

from aura_nb.scratchpad import store as store_module
from aura_nb.scratchpad.store import BlobStore, StoreError


def test_identical_outputs_are_stored_once_under_a_content_address(tmp_path: Path) -> None:
    blobs = BlobStore(tmp_path)
    text = "same output\n" * 1000
    first = blobs.put_text([text], source="a.tool")
    second = blobs.put_text([text[:5000], text[5000:]], source="b.tool")
    assert first.blob_id == second.blob_id == "sp_" + hashlib.sha256(text.encode()).hexdigest()[:12]
    assert [m.blob_id for m in blobs.list()] == [first.blob_id]
    assert sorted(p.name for p in (tmp_path / "blobs").iterdir()) == [first.blob_id, first.blob_id + ".json"]
    assert (first.size, first.lines, first.source) == (len(text), 1000, "a.tool")


def test_line_navigation_agrees_with_splitlines_across_index_chunks(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(store_module, "INDEX_CHUNK", 256)  # many chunks, lines straddling their boundaries
    rng = random.Random(3)
    lines = ["x" * rng.randrange(0, 700) + str(i) for i in range(600)]
    blobs = BlobStore(tmp_path)
    meta = blobs.put(chunk.encode() for chunk in ("\n".join(lines)[i : i + 1000] for i in range(0, 10**6, 1000)))
    assert meta.lines == 600 and len(meta.line_index) == meta.size // 256 + 1
    with blobs.open(meta.blob_id) as blob:
        for n in [0, 1, 2, 299, 598, 599, *rng.sample(range(600), 50)]:
            start = blob.line_start(n)
            assert blob.text(start, blob.line_end(start)) == lines[n]
            assert blob.line_of(start) == n == blob.line_of(blob.line_end(start))
        offsets = sorted(blob.line_start(n) for n in rng.sample(range(600), 80))
        assert blob.line_numbers(offsets) == [blob.line_of(o) for o in offsets]
        assert blob.line_start(600) == blob.size


def test_an_empty_output_is_a_blob_with_no_lines(tmp_path: Path) -> None:
    blobs = BlobStore(tmp_path)
    meta = blobs.put_text([""])
    assert (meta.size, meta.lines, meta.shape, meta.tokens) == (0, 0, "empty", 0)
    with blobs.open(meta.blob_id) as blob:
        assert blob.data == b"" and list(blob.lines_from(0)) == []


@pytest.mark.parametrize(
    "blob_id",
    ["../events.jsonl", "sp_../../etc", "/etc/passwd", "sp_0123456789ab/../x", "sp_0123456789AB", "sp_0123", "", "x"],
)
def test_malformed_ids_are_refused_before_touching_the_disk(tmp_path: Path, blob_id: str) -> None:
    blobs = BlobStore(tmp_path)
    with pytest.raises(StoreError, match="not a blob id"):
        blobs.open(blob_id)


def test_a_symlinked_blob_is_refused_wherever_it_points(tmp_path: Path) -> None:
    blobs = BlobStore(tmp_path)
    meta = blobs.put_text(["hello\n"])
    other = blobs.put_text(["another blob\n"])
    secret = tmp_path / "secret.txt"
    secret.write_text("top secret\n")
    path = blobs.root / meta.blob_id
    path.unlink()
    path.symlink_to(secret)
    with pytest.raises(StoreError, match="resolves outside the blob store"):
        blobs.open(meta.blob_id)
    path.unlink()
    path.symlink_to(blobs.root / other.blob_id)  # inside the store, but still a link
    with pytest.raises(StoreError, match="cannot open"):
        blobs.open(meta.blob_id)


def test_a_symlinked_sidecar_or_store_is_refused(tmp_path: Path) -> None:
    blobs = BlobStore(tmp_path)
    meta = blobs.put_text(["hello\n"])
    sidecar = blobs.root / f"{meta.blob_id}.json"
    copy = tmp_path / "elsewhere.json"
    copy.write_bytes(sidecar.read_bytes())
    sidecar.unlink()
    sidecar.symlink_to(copy)
    with pytest.raises(StoreError):
        blobs.meta(meta.blob_id)
    assert blobs.list() == []
    outside = tmp_path / "outside"
    outside.mkdir()
    (tmp_path / "run2").mkdir()
    (tmp_path / "run2" / "blobs").symlink_to(outside)
    with pytest.raises(StoreError, match="symlink"):
        BlobStore(tmp_path / "run2").put_text(["x"])


def test_unknown_ids_name_the_blobs_that_exist(tmp_path: Path) -> None:
    blobs = BlobStore(tmp_path)
    meta = blobs.put_text(["one\n"])
    with pytest.raises(StoreError, match=f"stored blobs: {meta.blob_id}"):
        blobs.open("sp_000000000000")


def _broken_stream() -> Iterator[bytes]:
    yield b"first half\n"
    raise OSError("the tool's stream broke")


def test_a_failed_write_leaves_no_partial_blob(tmp_path: Path) -> None:
    blobs = BlobStore(tmp_path)
    with pytest.raises(OSError, match="stream broke"):
        blobs.put(_broken_stream())
    assert os.listdir(blobs.root) == []
