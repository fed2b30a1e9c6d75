"""A bounded, safe copy of a run's tool images for its notebook record.

The run's blob store keeps every image a tool returned (`aura_nb.scratchpad.images`); the record shows
them without growing past a budget: `embed_images(document, run_dir)` gives each step image a `data:`
URI (`src`) while it stays under `IMAGE_BYTES` and the record's images under `RECORD_IMAGE_BYTES`, and a
`note` otherwise saying why and where the full image is. Only raster types browsers render without
running anything are shown (PNG, JPEG, GIF, WebP; never SVG, which can carry script), and only when the
bytes' own signature says the type the tool gave. What is shown is rebuilt from the image's pixel data
alone: text and metadata chunks (PNG tEXt/iTXt/zTXt/eXIf, JPEG APPn/COM segments, GIF comments and
application extensions, WebP EXIF/XMP) are dropped, so nothing written into an image's metadata reaches
the record, whose text is redacted.
"""

from __future__ import annotations

import base64
import functools
import struct
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from aura_nb.scratchpad.store import BlobStore, StoreError

IMAGE_BYTES = 128 * 1024
"""The largest image a record embeds (after its metadata is stripped)."""
RECORD_IMAGE_BYTES = 384 * 1024
"""The most image bytes one record embeds; later images are shown as placeholders."""
RASTER_TYPES = ("image/png", "image/jpeg", "image/gif", "image/webp")
"""The types a record shows: rasters a browser renders without running anything."""
_ALIASES = {"image/jpg": "image/jpeg", "image/pjpeg": "image/jpeg"}


class NotAnImage(ValueError):
    """The bytes are not a well-formed image of the type they claim."""


def _png(data: bytes) -> bytes:
    keep = {b"IHDR", b"PLTE", b"IDAT", b"IEND", b"tRNS", b"gAMA", b"cHRM", b"sRGB", b"sBIT", b"pHYs", b"bKGD"}
    keep |= {b"acTL", b"fcTL", b"fdAT"}  # animated PNG
    out, at = [data[:8]], 8
    while at < len(data):
        if at + 12 > len(data):
            raise NotAnImage("a PNG chunk is cut short")
        (length,) = struct.unpack(">I", data[at : at + 4])
        kind, end = data[at + 4 : at + 8], at + 12 + length
        if end > len(data) or not kind.isalpha():
            raise NotAnImage("a PNG chunk is cut short or malformed")
        if kind in keep:
            out.append(data[at:end])
        at = end
        if kind == b"IEND":
            break
    if len(out) < 3 or not out[1][4:8] == b"IHDR" or out[-1][4:8] != b"IEND":
        raise NotAnImage("a PNG without its header, image data or end")
    return b"".join(out)


def _jpeg(data: bytes) -> bytes:
    out, at = [data[:2]], 2
    while at + 4 <= len(data):
        if data[at] != 0xFF:
            raise NotAnImage("a JPEG segment does not start with a marker")
        marker = data[at + 1]
        if marker == 0xFF:  # fill byte
            at += 1
            continue
        (length,) = struct.unpack(">H", data[at + 2 : at + 4])
        end = at + 2 + length
        if end > len(data) or length < 2:
            raise NotAnImage("a JPEG segment is cut short")
        if marker == 0xDA:  # start of scan: the entropy-coded data and the rest of the file are pixels
            if not data.rstrip(b"\0").endswith(b"\xff\xd9"):
                raise NotAnImage("a JPEG without its end marker (cut short)")
            out.append(data[at:])
            return b"".join(out)
        # APP1..APP15 (EXIF, XMP, ICC, ...) and comments go; APP14 (Adobe) says how to read the colours
        if not (0xE1 <= marker <= 0xEF or marker == 0xFE) or marker == 0xEE:
            out.append(data[at:end])
        at = end
    raise NotAnImage("a JPEG without image data")


def _gif_blocks(data: bytes, at: int) -> int:
    """The offset after the data sub-blocks starting at `at`."""
    while True:
        if at >= len(data):
            raise NotAnImage("a GIF block is cut short")
        size = data[at]
        at += 1 + size
        if size == 0:
            return at


def _gif(data: bytes) -> bytes:
    if len(data) < 13:
        raise NotAnImage("a GIF without its screen descriptor")
    flags = data[10]
    at = 13 + (3 * 2 ** ((flags & 7) + 1) if flags & 0x80 else 0)
    out, frames = [data[:at]], 0
    while at < len(data):
        block = data[at]
        if block == 0x3B:  # trailer
            if frames == 0:
                break
            out.append(b"\x3b")
            return b"".join(out)
        if block == 0x2C:  # an image: descriptor, local colour table, LZW code size, data
            local = data[at + 9] if at + 10 <= len(data) else 0
            start, at = at, at + 10 + (3 * 2 ** ((local & 7) + 1) if local & 0x80 else 0) + 1
            at = _gif_blocks(data, at)
            out.append(data[start:at])
            frames += 1
        elif block == 0x21 and at + 2 <= len(data):  # an extension: keep graphic control and looping only
            label, start = data[at + 1], at
            at = _gif_blocks(data, at + 2)
            if label == 0xF9 or (label == 0xFF and data[start + 3 : start + 14] == b"NETSCAPE2.0"):
                out.append(data[start:at])
        else:
            raise NotAnImage("a GIF block of unknown kind")
    raise NotAnImage("a GIF without an image or its trailer")


def _webp(data: bytes) -> bytes:
    keep = {b"VP8 ", b"VP8L", b"VP8X", b"ALPH", b"ANIM", b"ANMF"}
    chunks, at = [], 12
    while at + 8 <= len(data):
        kind, (length,) = data[at : at + 4], struct.unpack("<I", data[at + 4 : at + 8])
        end = at + 8 + length + (length & 1)
        if at + 8 + length > len(data):
            raise NotAnImage("a WebP chunk is cut short")
        if kind in keep:
            chunk = data[at:end]
            if kind == b"VP8X":  # no ICC profile, EXIF or XMP any more
                chunk = chunk[:8] + bytes([chunk[8] & ~0x2C & 0xFF]) + chunk[9:]
            chunks.append(chunk)
        at = end
    if not any(c[:4] in (b"VP8 ", b"VP8L", b"ANMF") for c in chunks):
        raise NotAnImage("a WebP without image data")
    body = b"WEBP" + b"".join(chunks)
    return b"RIFF" + struct.pack("<I", len(body)) + body


_FORMATS: dict[str, tuple[Callable[[bytes], bool], Callable[[bytes], bytes]]] = {
    "image/png": (lambda b: b.startswith(b"\x89PNG\r\n\x1a\n"), _png),
    "image/jpeg": (lambda b: b.startswith(b"\xff\xd8\xff"), _jpeg),
    "image/gif": (lambda b: b[:6] in (b"GIF87a", b"GIF89a"), _gif),
    "image/webp": (lambda b: b[:4] == b"RIFF" and b[8:12] == b"WEBP", _webp),
}


def sniff(data: bytes) -> str | None:
    """The raster type the bytes' signature says (None: not one of `RASTER_TYPES`)."""
    return next((kind for kind, (matches, _) in _FORMATS.items() if matches(data)), None)


def pixels_only(mime_type: str, data: bytes) -> bytes:
    """`data` without its text and metadata chunks; `NotAnImage` when it is not a well-formed `mime_type`."""
    return _FORMATS[mime_type][1](data)


@functools.lru_cache(maxsize=64)
def _prepared(root: str, ref: str, mime_type: str) -> tuple[str | None, int, str | None]:
    """The `data:` URI of blob `ref` stripped and its bytes, or why not (blobs are content-addressed, so this
    never goes stale: a live view that re-renders reads and encodes each image once)."""
    where = f"the full image is blob {ref} in the run directory"
    declared = _ALIASES.get(mime_type.lower(), mime_type.lower())
    if declared not in RASTER_TYPES:
        return None, 0, f"not shown: {mime_type} is not a raster type the record embeds ({where})"
    store = BlobStore(Path(root))
    try:
        size = store.meta(ref).size
        if size > 16 * IMAGE_BYTES:  # too large to be shown even after stripping: not worth reading
            return None, 0, f"not shown: over the record's {IMAGE_BYTES:,}-byte image cap ({where})"
        with store.open(ref) as blob:
            data = bytes(blob.data[:])
    except (OSError, StoreError):
        return None, 0, f"not shown: blob {ref} is not in the run directory"
    found = sniff(data)
    if found != declared:
        says = f"the bytes are {found}" if found else "the bytes are not an image the record can show"
        return None, 0, f"not shown: labelled {mime_type} but {says} ({where})"
    try:
        stripped = pixels_only(declared, data)
    except NotAnImage as exc:
        return None, 0, f"not shown: {exc} ({where})"
    if len(stripped) > IMAGE_BYTES:
        return None, 0, f"not shown: over the record's {IMAGE_BYTES:,}-byte image cap ({where})"
    return f"data:{declared};base64,{base64.b64encode(stripped).decode('ascii')}", len(stripped), None


def _step_images(document: dict[str, Any]) -> Iterator[dict[str, Any]]:
    for step in document["steps"]:
        yield from step.get("images") or ()


def embed_images(document: dict[str, Any], run_dir: Path | None) -> dict[str, Any]:
    """`document` (a record's JSON, changed in place and returned) with its step images embedded from
    `run_dir`'s blob store, in step order, within `IMAGE_BYTES` each and `RECORD_IMAGE_BYTES` in all."""
    budget = RECORD_IMAGE_BYTES
    for image in _step_images(document):
        image["src"] = None
        ref = image["ref"]
        if ref is None:
            image["note"] = "not shown: the image could not be stored"
            continue
        if run_dir is None:
            image["note"] = f"not shown: the run directory is not known (the image is blob {ref})"
            continue
        src, size, note = _prepared(str(run_dir), ref, image["mime_type"])
        if src is not None and size > budget:
            cap = f"{RECORD_IMAGE_BYTES:,}-byte"
            where = f"the full image is blob {ref} in the run directory"
            src, note = None, f"not shown: the record's images reached their {cap} cap ({where})"
        image["src"], image["note"] = src, note
        if src is not None:
            budget -= size
    return document
