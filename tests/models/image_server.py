"""A small, real MCP server (stdio) whose tools return images: of any size and type, or broken."""

from __future__ import annotations

import base64
import io
import random

from mcp.server.mcpserver import MCPServer
from mcp.types import ImageContent, TextContent

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
server = MCPServer("images")


@server.tool(description="A picture of `size` bytes (PNG magic, then a counting pattern), with a caption.")
def picture(size: int, mime_type: str = "image/png") -> list[TextContent | ImageContent]:
    body = (PNG_MAGIC + bytes(i % 251 for i in range(max(0, size - len(PNG_MAGIC)))))[:size]
    data = base64.b64encode(body).decode("ascii")
    return [
        TextContent(type="text", text=f"a {size}-byte picture"),
        ImageContent(type="image", data=data, mime_type=mime_type),
    ]


def photo_bytes(side: int, image_format: str = "PNG", comment: str = "") -> bytes:
    """A real `side`×`side` image of noise (incompressible) in `image_format`, `comment` in its metadata."""
    from PIL import Image, PngImagePlugin

    pixels = random.Random(side).randbytes(side * side * 3)
    image = Image.frombytes("RGB", (side, side), pixels)
    out = io.BytesIO()
    if image_format == "PNG":
        info = PngImagePlugin.PngInfo()
        info.add_text("Comment", comment)
        info.add_itxt("Description", comment, zip=True)
        image.save(out, "PNG", pnginfo=info)
    elif image_format == "GIF":
        image.convert("P").save(out, "GIF", comment=comment.encode())
    else:  # JPEG, WEBP: the comment as the EXIF image description (and a JPEG comment)
        exif = Image.Exif()
        exif[0x010E] = comment
        extra = {"comment": comment.encode()} if image_format == "JPEG" else {}
        image.save(out, image_format, exif=exif.tobytes(), **extra)
    return out.getvalue()


@server.tool(description="A real image of noise, `side` pixels square, with `comment` in its metadata.")
def photo(side: int, image_format: str = "PNG", mime_type: str = "image/png", comment: str = "") -> list[ImageContent]:
    data = base64.b64encode(photo_bytes(side, image_format, comment)).decode("ascii")
    return [ImageContent(type="image", data=data, mime_type=mime_type)]


@server.tool(description="An image whose data is not base64.")
def broken_picture() -> list[TextContent | ImageContent]:
    return [
        TextContent(type="text", text="this one is broken"),
        ImageContent(type="image", data="not base64 at all!", mime_type="image/png"),
    ]


if __name__ == "__main__":
    server.run("stdio")
