"""``POST /webhooks/zoho/crm``: Zoho CRM change notifications wake the SCI that opened the
channel. The callback is only a trigger: the SCI then reads changes by its cursor (and
gives the linked records it names a pass, for note and file changes no poll can see), so
nothing needs storing here and a lost callback only delays a change until the next poll."""

from __future__ import annotations

import msgspec
import structlog
from aiohttp import web

from bridge.http.keys import RUNTIME
from bridge.http.metrics import WEBHOOK_EVENTS

log = structlog.get_logger("bridge.webhooks")


class _Callback(msgspec.Struct):
    channel_id: str | int
    token: str | None = None
    module: str = ""
    operation: str = ""
    ids: list[str | int] = []


_decoder = msgspec.json.Decoder(_Callback)
MAX_IDS = 100  # Zoho names at most 100 records per callback; more would be noise


async def zoho_crm_notification(request: web.Request) -> web.Response:
    runtime = request.app[RUNTIME]
    try:
        callback = _decoder.decode(await request.read())
    except web.HTTPRequestEntityTooLarge:
        WEBHOOK_EVENTS.labels("zoho_crm", "too_large").inc()
        return web.json_response({"error": "body too large"}, status=413)
    except (msgspec.DecodeError, msgspec.ValidationError) as exc:
        WEBHOOK_EVENTS.labels("zoho_crm", "malformed").inc()
        return web.json_response({"error": f"not a Zoho CRM notification: {exc}"}, status=400)
    sci_id = runtime.channels.sci_for(str(callback.channel_id), callback.token)
    if sci_id is None:
        WEBHOOK_EVENTS.labels("zoho_crm", "bad_token").inc()
        log.warning("webhook.rejected", source="zoho_crm", reason="unknown channel or token")
        return web.json_response({"error": "unknown channel or token"}, status=401)
    runtime.wake(sci_id, "zoho notification", tuple(str(i) for i in callback.ids[:MAX_IDS]))
    WEBHOOK_EVENTS.labels("zoho_crm", "accepted").inc()
    log.info("webhook.accepted", source="zoho_crm", sci_id=sci_id, module=callback.module,
             operation=callback.operation)
    return web.json_response({"status": "accepted", "routed_to": [sci_id]}, status=202)
