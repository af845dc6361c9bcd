"""``POST /webhooks/jira``: verify, de-duplicate, store durably, then answer and route.

Order matters: the event is in the inbox (committed) before we answer 2xx, so a crash
after the answer loses nothing; the (source, delivery id) uniqueness in the store makes
concurrent retries of one delivery collapse into one event.
"""

from __future__ import annotations

import hashlib
import hmac

import structlog
from aiohttp import web

from bridge.http.keys import RUNTIME
from bridge.http.metrics import WEBHOOK_EVENTS
from bridge.routing import NotAnEvent, decode_event, route

log = structlog.get_logger("bridge.webhooks")

SIGNATURE_HEADER = "X-Hub-Signature"
DELIVERY_HEADER = "X-Atlassian-Webhook-Identifier"


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


async def jira_webhook(request: web.Request) -> web.Response:
    runtime = request.app[RUNTIME]
    try:
        body = await request.read()
    except web.HTTPRequestEntityTooLarge:
        return _reject(413, "too_large", "body exceeds http.max_body_bytes")
    secret = runtime.webhook_secret()
    if not secret:
        return _reject(401, "no_secret", "webhook secret is not configured (jira.webhook_secret)")
    if not signature_valid(secret, body, request.headers.get(SIGNATURE_HEADER)):
        return _reject(401, "bad_signature", f"missing or invalid {SIGNATURE_HEADER}")
    try:
        event = decode_event(body)
    except NotAnEvent as exc:
        return _reject(400, "malformed", str(exc))
    delivery_id = request.headers.get(DELIVERY_HEADER) or "sha256:" + hashlib.sha256(
        body
    ).hexdigest()
    sci_ids = route(event, runtime.config.sci)
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
