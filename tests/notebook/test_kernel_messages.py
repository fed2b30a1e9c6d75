"""A kernel running aura_nb packs its messages with orjson (a finished record is one display message of
hundreds of kilobytes: about 0.4 ms to pack instead of 6 ms with the standard library, on the kernel's loop)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from jupyter_client.manager import start_new_kernel


def test_a_kernel_packs_its_messages_with_orjson(tmp_path: Path) -> None:
    manager, client = start_new_kernel(kernel_name="python3", cwd=str(tmp_path))
    printed: list[str] = []

    def read(msg: dict[str, Any]) -> None:
        if msg["msg_type"] == "stream":
            printed.append(msg["content"]["text"])

    try:
        code = (
            "from jupyter_client.session import orjson_packer\n"
            "print(get_ipython().kernel.session.pack is orjson_packer)"
        )
        client.execute_interactive(code, timeout=60, output_hook=read)
    finally:
        client.stop_channels()
        manager.shutdown_kernel(now=True)
    assert "".join(printed).strip() == "True"
