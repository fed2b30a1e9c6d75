"""A small, real MCP server (stdio) whose tools return images: of any size and type, or broken."""

from __future__ import annotations

import base64

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


@server.tool(description="An image whose data is not base64.")
def broken_picture() -> list[TextContent | ImageContent]:
    return [
        TextContent(type="text", text="this one is broken"),
        ImageContent(type="image", data="not base64 at all!", mime_type="image/png"),
    ]


if __name__ == "__main__":
    server.run("stdio")
