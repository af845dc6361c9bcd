"""``POST /webhooks/jira``: verify, de-duplicate, store durably, then answer and route.

Order matters: what the request head already rules out (size, secret, signature header,
a free body slot) is answered before a byte of the body is buffered; a body must arrive
within ``http.body_timeout``; only a signed body that decodes strictly is stored. The
event is in the inbox (committed) before we answer 2xx, so a crash after the answer loses
nothing; the (source, delivery id) uniqueness in the store makes concurrent retries of one
delivery collapse into one event.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac

import structlog
from aiohttp import web

from bridge.http.keys import BODY_SLOTS, RUNTIME
from bridge.http.metrics import WEBHOOK_EVENTS
from bridge.http.payload import Unusable, decode_jira_event
from bridge.routing import route

log = structlog.get_logger("bridge.webhooks")

SIGNATURE_HEADER = "X-Hub-Signature"
DELIVERY_HEADER = "X-Atlassian-Webhook-Identifier"
RETRY_AFTER_SECONDS = 1  # for 503s: the sender's next attempt will likely find room


def sign(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def signature_valid(secret: str, body: bytes, header: str | None) -> bool:
    """WebSub-style ``method=hexdigest``; only sha256 is accepted."""
    if not secret or not header or not header.startswith("sha256="):
        return False
    return hmac.compare_digest(sign(secret, body), header.strip())


def _reject(status: int, result: str, message: str) -> web.Response:
    WEBHOOK_EVENTS.labels("jira", result).inc()
    log.warning("webhook.rejected", result=result, reason=message)
    return web.json_response({"error": message}, status=status)


def _refuse_unread(status: int, result: str, message: str, *,
                   retry_later: bool = False) -> web.Response:
    """Answer without reading the body, and close: the client may still be sending it."""
    response = _reject(status, result, message)
    if retry_later:
        response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
    response.force_close()
    return response


def _refusal_before_body(request: web.Request) -> web.Response | None:
    """What can be refused from the head alone, so unsigned bodies are never buffered."""
    runtime = request.app[RUNTIME]
    if (request.content_length or 0) > runtime.config.http.max_body_bytes:
        return _refuse_unread(413, "too_large", "body exceeds http.max_body_bytes")
    if not runtime.webhook_secret():
        return _refuse_unread(
            401, "no_secret", "webhook secret is not configured (jira.webhook_secret)")
    if not request.headers.get(SIGNATURE_HEADER, "").startswith("sha256="):
        return _refuse_unread(401, "bad_signature", f"missing or invalid {SIGNATURE_HEADER}")
    if request.app[BODY_SLOTS].locked():
        return _refuse_unread(503, "busy", "too many webhook bodies in flight; retry later",
                              retry_later=True)
    return None


async def _read_body(request: web.Request) -> bytes | web.Response:
    """The body, or the answer when it is too large or does not arrive in time."""
    http = request.app[RUNTIME].config.http
    try:
        async with asyncio.timeout(http.body_timeout):
            return await request.read()
    except web.HTTPRequestEntityTooLarge:
        return _refuse_unread(413, "too_large", "body exceeds http.max_body_bytes")
    except TimeoutError:
        return _refuse_unread(
            408, "body_timeout", f"body not received within {http.body_timeout:g} s")


async def jira_webhook(request: web.Request) -> web.Response:
    refusal = _refusal_before_body(request)
    if refusal is not None:
        return refusal
    async with request.app[BODY_SLOTS]:
        body = await _read_body(request)
    if isinstance(body, web.Response):
        return body
    return await _accept(request, body)


async def _accept(request: web.Request, body: bytes) -> web.Response:
    runtime = request.app[RUNTIME]
    if not signature_valid(runtime.webhook_secret(), body, request.headers.get(SIGNATURE_HEADER)):
        return _reject(401, "bad_signature", f"missing or invalid {SIGNATURE_HEADER}")
    try:
        event = decode_jira_event(body)
    except Unusable as exc:
        return _reject(400, "malformed", str(exc))
    delivery_id = request.headers.get(DELIVERY_HEADER) or "sha256:" + hashlib.sha256(
        body
    ).hexdigest()
    sci_ids = route(event, runtime.scis)
    structlog.contextvars.bind_contextvars(delivery_id=delivery_id)
    if not sci_ids:
        WEBHOOK_EVENTS.labels("jira", "unrouted").inc()
        log.info("webhook.unrouted", webhook_event=event.webhookEvent)
        return web.json_response({"status": "ignored", "reason": "no SCI matches"}, status=202)
    event_id = await runtime.store.inbox_append("jira", delivery_id, body, sci_ids)
    if event_id is None:
        WEBHOOK_EVENTS.labels("jira", "duplicate").inc()
        return web.json_response({"status": "duplicate"}, status=200)
    WEBHOOK_EVENTS.labels("jira", "accepted").inc()
    log.info(
        "webhook.accepted", event_id=event_id, webhook_event=event.webhookEvent, routed_to=sci_ids
    )
    runtime.notify_actors(event_id, sci_ids)
    return web.json_response(
        {"status": "accepted", "event_id": event_id, "routed_to": sci_ids}, status=202
    )
