"""Typed application keys."""

import asyncio

from aiohttp import web

from bridge.runtime import Runtime

RUNTIME = web.AppKey("runtime", Runtime)
# Bounds the webhook bodies being received at once (http.max_inflight_bodies).
BODY_SLOTS = web.AppKey("body_slots", asyncio.Semaphore)
