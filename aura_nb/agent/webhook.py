"""An approver for unattended runs: each gated call is POSTed to a webhook, which answers with a signed decision.

Both directions are signed with HMAC-SHA256 over the exact body under a shared secret (`[approver]
secret_env`, default `AURA_APPROVAL_SECRET`), in the `X-Aura-Signature: sha256=<hex>` header. The
request (JSON) carries the call (`run_id`, `call_id`, `tool`, `arguments` with secrets masked, `agent`,
`task_id`, `reason`, `timeout_s`), `sent_at` (Unix seconds, so the receiver can refuse stale requests)
and a random `nonce`. The webhook answers within the timeout, status 200, with

    {"call_id": "...", "nonce": "...", "decision": "approved" | "denied", "by": "...", "note": "..."}

signed the same way. A reply that is unsigned, wrongly signed, for another call or nonce, or not such a
document raises `WebhookError`, and the gate denies the call (fail-closed).
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import secrets
import time
import urllib.error
import urllib.request
from dataclasses import asdict

from aura_nb.agent.approvals import ApprovalRequest, Decision
from aura_nb.errors import AuraError

SIGNATURE_HEADER = "X-Aura-Signature"
DEFAULT_SECRET_VARIABLE = "AURA_APPROVAL_SECRET"
MAX_REPLY_BYTES = 64 << 10


class WebhookError(AuraError):
    """The webhook gave no valid signed decision."""


def sign(secret: bytes, body: bytes) -> str:
    """The signature header value of `body`: `sha256=<hex HMAC-SHA256>`."""
    return "sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest()


def verify(secret: bytes, body: bytes, signature: str | None) -> bool:
    """Whether `signature` is `body`'s signature under `secret` (compared in constant time)."""
    return signature is not None and hmac.compare_digest(sign(secret, body), signature.strip())


class WebhookApprover:
    """Asks the webhook at `url` (see the module docstring); an `Approver`."""

    def __init__(self, url: str, secret: bytes) -> None:
        if not url.startswith(("http://", "https://")):
            raise ValueError(f"an approval webhook is an http(s) URL, not {url!r}")
        if not secret:
            raise ValueError("an approval webhook needs a non-empty secret")
        self.url = url
        self._secret = secret

    @property
    def name(self) -> str:
        return f"webhook {self.url}"

    async def __call__(self, request: ApprovalRequest) -> Decision:
        nonce = secrets.token_hex(16)
        body = json.dumps(asdict(request) | {"nonce": nonce, "sent_at": time.time()}, sort_keys=True).encode()
        reply, signature = await asyncio.to_thread(self._post, body, request.timeout_s)
        if not verify(self._secret, reply, signature):
            raise WebhookError(f"the decision from {self.url} is not signed with the approval secret")
        try:
            answer = json.loads(reply)
        except ValueError as exc:
            raise WebhookError(f"the decision from {self.url} is not JSON: {exc}") from None
        if not isinstance(answer, dict) or (answer.get("call_id"), answer.get("nonce")) != (request.call_id, nonce):
            raise WebhookError(f"the decision from {self.url} is not for this request (call id and nonce)")
        if answer.get("decision") not in ("approved", "denied"):
            raise WebhookError(f"the decision from {self.url} is neither 'approved' nor 'denied'")
        by, note = answer.get("by"), answer.get("note")
        return Decision(
            answer["decision"] == "approved",
            f"{self.name}: {by}" if isinstance(by, str) and by else self.name,
            note if isinstance(note, str) else "",
        )

    def _post(self, body: bytes, timeout: float) -> tuple[bytes, str | None]:
        headers = {"Content-Type": "application/json", SIGNATURE_HEADER: sign(self._secret, body)}
        post = urllib.request.Request(self.url, data=body, headers=headers, method="POST")
        try:
            with urllib.request.urlopen(post, timeout=timeout) as response:
                return response.read(MAX_REPLY_BYTES), response.headers.get(SIGNATURE_HEADER)
        except urllib.error.HTTPError as exc:
            raise WebhookError(f"{self.url} answered HTTP {exc.code} {exc.reason}") from None
        except (urllib.error.URLError, OSError) as exc:
            raise WebhookError(f"{self.url} could not be reached: {getattr(exc, 'reason', exc)}") from None
