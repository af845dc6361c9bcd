"""Zoho CRM notification channels: which SCI a callback wakes, and its token.

A notification is only a trigger (the engine then reads changes by cursor), so a forged
one costs at most an early poll; the token still keeps strangers' deliveries out.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets


class ChannelRegistry:
    def __init__(self) -> None:
        self._channels: dict[str, tuple[str, str]] = {}  # channel id → (SCI id, token)

    def register(self, sci_id: str) -> tuple[str, str]:
        """(channel id, fresh token) for an SCI; the id is stable across restarts."""
        channel_id = str(int(hashlib.sha256(sci_id.encode()).hexdigest()[:15], 16))
        token = secrets.token_hex(20)
        self._channels[channel_id] = (sci_id, token)
        return channel_id, token

    def sci_for(self, channel_id: str, token: str | None) -> str | None:
        """The SCI a callback belongs to, or None when the channel or token is unknown."""
        known = self._channels.get(channel_id)
        if known is None or token is None or not hmac.compare_digest(known[1], token):
            return None
        return known[0]
