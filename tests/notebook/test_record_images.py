"""Tool images in the notebook record: real MCP servers return images (the reference server's MCP logo, and
real PNG/JPEG/GIF/WebP files with text in their metadata), the run's blob store keeps them, and the record
embeds a bounded copy — a `data:` URI of the right type in the JSON document and an `<img>` in the HTML
fallback — with the metadata stripped; an oversized, a mislabelled, an SVG and a broken image get a
placeholder naming their size and blob."""

from __future__ import annotations

import base64
import io
import json
import re
import sys
from html import escape
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from image_runs import SECRET, SHOWN, data_of, image_run, step_images
from jlab_sanitizer import violations

from aura_nb.notebook import MIME_TYPE, run_mimebundle, run_schema
from aura_nb.notebook.images import IMAGE_BYTES, RECORD_IMAGE_BYTES, NotAnImage, embed_images, pixels_only, sniff
from aura_nb.scratchpad.store import BlobStore

sys.path.insert(0, str(Path(__file__).parents[1] / "models"))
from image_server import photo_bytes

IMG = re.compile(r'<img src="data:(image/[a-z]+);base64,([A-Za-z0-9+/=]+)"')


def record_images(bundle: dict[str, Any]) -> list[dict[str, Any]]:
    return step_images(bundle[MIME_TYPE])


@pytest.mark.slow
async def test_a_tool_image_is_in_the_record_json_and_the_html_fallback(tmp_path: Path) -> None:
    run = await image_run(tmp_path, *SHOWN)
    bundle, _ = run_mimebundle(run)
    document, page = bundle[MIME_TYPE], bundle["text/html"]
    jsonschema.Draft202012Validator(run_schema()).validate(document)

    logo, photo = record_images(bundle)
    assert run.dir is not None
    stored = (run.dir / "blobs" / logo["ref"]).read_bytes()
    kind, shown = data_of(logo["src"])
    assert (kind, logo["mime_type"], logo["size"], logo["note"]) == ("image/png", "image/png", len(stored), None)
    assert shown.startswith(b"\x89PNG\r\n\x1a\n") and b"IDAT" in shown and b"IHDR" in shown
    assert b"iTXt" in stored and b"iTXt" not in shown and b"eXIf" not in shown, "the logo's metadata was kept"

    kind, shown = data_of(photo["src"])
    assert kind == "image/jpeg" and SECRET.encode() in (run.dir / "blobs" / photo["ref"]).read_bytes()
    assert SECRET.encode() not in shown and SECRET not in json.dumps(document) and SECRET not in page

    embedded = IMG.findall(page)
    assert [(k, base64.b64decode(d)) for k, d in embedded] == [data_of(logo["src"]), data_of(photo["src"])]
    assert violations(page) == [], "JupyterLab's sanitiser would strip part of the images"


@pytest.mark.slow
async def test_oversized_mislabelled_svg_and_broken_images_get_a_placeholder(tmp_path: Path) -> None:
    run = await image_run(
        tmp_path,
        ("images.photo", {"side": 400}),  # a real 480 KB PNG
        ("images.photo", {"side": 32, "mime_type": "image/jpeg"}),  # a PNG labelled JPEG
        ("images.picture", {"size": 300, "mime_type": "image/svg+xml"}),
        ("images.picture", {"size": 900}),  # PNG magic, then no PNG
        ("images.photo", {"side": 16, "image_format": "GIF", "mime_type": "image/gif"}),
    )
    bundle, _ = run_mimebundle(run)
    big, mislabelled, svg, broken, gif = record_images(bundle)
    page = bundle["text/html"]
    for image in (big, mislabelled, svg, broken):
        assert image["src"] is None and image["ref"] and image["ref"] in image["note"], image
        assert escape(f"[image {image['mime_type']}, {image['size']:,} bytes: {image['note']}]") in page
    assert big["size"] > IMAGE_BYTES and "over the record's 131,072-byte image cap" in big["note"]
    assert "labelled image/jpeg but the bytes are image/png" in mislabelled["note"]
    assert "image/svg+xml is not a raster type" in svg["note"]
    assert "not shown: a PNG chunk" in broken["note"]
    assert data_of(gif["src"])[0] == "image/gif"
    assert [kind for kind, _ in IMG.findall(page)] == ["image/gif"]
    assert len(json.dumps(bundle[MIME_TYPE])) < 64_000, "an image that is not shown still made the record big"


def test_the_record_embeds_images_up_to_its_total_budget(tmp_path: Path) -> None:
    store = BlobStore(tmp_path)
    sizes, refs = [], []
    for side in range(150, 200):  # distinct noise PNGs of about 67-120 KB each
        data = photo_bytes(side)
        if len(data) < IMAGE_BYTES:
            refs.append(store.put([data]).blob_id)
            sizes.append(len(data))
    images = [{"ref": ref, "mime_type": "image/png", "size": size} for ref, size in zip(refs, sizes, strict=True)]
    document = embed_images({"steps": [{"images": images}, {"images": None}]}, tmp_path)
    shown = [i for i in document["steps"][0]["images"] if i["src"]]
    assert 0 < len(shown) < len(images)
    assert sum(len(data_of(i["src"])[1]) for i in shown) <= RECORD_IMAGE_BYTES
    assert all("reached" in i["note"] and i["ref"] in i["note"] for i in images[len(shown) :])

    unknown = embed_images({"steps": [{"images": [dict(images[0])]}]}, None)["steps"][0]["images"][0]
    assert unknown["src"] is None and "run directory is not known" in unknown["note"]


FORMATS = [("PNG", "png"), ("JPEG", "jpeg"), ("GIF", "gif"), ("WEBP", "webp")]


@pytest.mark.parametrize(("image_format", "mime_type"), FORMATS)
def test_metadata_is_stripped_and_the_pixels_kept(image_format: str, mime_type: str) -> None:
    from PIL import Image

    original = photo_bytes(40, image_format, SECRET)
    assert sniff(original) == f"image/{mime_type}" and SECRET.encode() in original
    stripped = pixels_only(f"image/{mime_type}", original)
    assert SECRET.encode() not in stripped
    before, after = Image.open(io.BytesIO(original)), Image.open(io.BytesIO(stripped))
    assert after.format == image_format and after.size == before.size
    assert after.convert("RGB").tobytes() == before.convert("RGB").tobytes()


@pytest.mark.parametrize("mime_type", ["image/png", "image/jpeg", "image/gif", "image/webp"])
def test_a_cut_image_is_refused(mime_type: str) -> None:
    original = photo_bytes(40, mime_type.removeprefix("image/").upper())
    with pytest.raises(NotAnImage):
        pixels_only(mime_type, original[: len(original) // 3])
