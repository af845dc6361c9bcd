"""Typed application keys."""

from aiohttp import web

from bridge.runtime import Runtime

RUNTIME = web.AppKey("runtime", Runtime)
