"""The CRM simulator's switches, set at start (``CrmSettings(...)``) or at run time with
``POST /_sim/settings`` (``GET`` shows them).

* ``time_zone``: the org's UTC offset; every timestamp the simulator writes carries it.
  Default ``-07:00`` so that code assuming UTC is caught.
* ``search_delay``: seconds before a write becomes visible to ``/search`` (Zoho indexes
  asynchronously). Default 0 (immediately visible).
* ``restricted_picklists``: unknown picklist values are refused with ``INVALID_DATA``.
  Default on (the stricter choice).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, timezone
from typing import Any

from adapters.zoho.simulator.common import parse_offset, zoho_time

_KNOBS = ("time_zone", "search_delay", "restricted_picklists")


@dataclass
class CrmSettings:
    time_zone: str = "-07:00"
    search_delay: float = 0.0
    restricted_picklists: bool = True
    clock: Callable[[], float] = field(default=time.time, repr=False)
    _zone: timezone = field(default=UTC, init=False, repr=False)

    def __post_init__(self) -> None:
        self._zone = parse_offset(self.time_zone)

    @property
    def zone(self) -> timezone:
        return self._zone

    def now(self) -> float:
        return self.clock()

    def stamp(self, moment: float | None = None) -> str:
        """A Zoho timestamp (seconds, org offset) for ``moment`` or now."""
        return zoho_time(self.clock() if moment is None else moment, self._zone)

    def org_time_zone(self) -> str:
        """The IANA-style name Zoho's ``/org`` reports for a fixed offset."""
        hours = -self._zone.utcoffset(None).total_seconds() / 3600
        return "UTC" if hours == 0 else f"Etc/GMT{hours:+g}"

    def public(self) -> dict[str, Any]:
        return {"time_zone": self.time_zone, "search_delay": self.search_delay,
                "restricted_picklists": self.restricted_picklists}

    def update(self, changes: dict[str, Any]) -> None:
        unknown = set(changes) - set(_KNOBS)
        if unknown:
            raise ValueError(f"unknown setting(s): {', '.join(sorted(unknown))}")
        if "time_zone" in changes:
            self._zone = parse_offset(str(changes["time_zone"]))
            self.time_zone = str(changes["time_zone"])
        if "search_delay" in changes:
            delay = float(changes["search_delay"])
            if delay < 0:
                raise ValueError("search_delay must not be negative")
            self.search_delay = delay
        if "restricted_picklists" in changes:
            if not isinstance(changes["restricted_picklists"], bool):
                raise ValueError("restricted_picklists must be true or false")
            self.restricted_picklists = changes["restricted_picklists"]
