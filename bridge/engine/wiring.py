"""Build each SCI's engine from the daemon's shared connections.

Clients are built once per connection and shared, so an account's rate budget (and the
Zoho Projects per-URL-pattern throttle) is shared by every SCI that uses it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable

import msgspec

from bridge.config import Config
from bridge.connections import Connections
from bridge.engine.channels import ChannelRegistry
from bridge.engine.engine import Notifications, SciEngine, Sides
from bridge.sci import SciConfig
from bridge.sides.base import ConnectionsPending, SideError, ZohoSide
from bridge.sides.jira import JiraSide
from bridge.sides.zoho_crm import CrmSide
from bridge.sides.zoho_projects import ProjectsSide
from bridge.store import Store

ZOHO_CRM_PATH = "/webhooks/zoho/crm"
PANEL_PATH = "/panel"  # the issue panel: PANEL_PATH/<ISSUE-KEY>


def engine_for(sci: SciConfig, config: Config, store: Store,
               connections: Callable[[], Connections],
               channels: ChannelRegistry, problems: dict[str, str],
               viewer: str = "") -> SciEngine:
    """``connections`` is read when the engine starts, so a reload's new clients are used.
    With a ``viewer``, Zoho CRM is read and written with that panel user's own sign-in."""

    async def sides() -> Sides:
        current = connections()
        if not current.prepared:
            raise ConnectionsPending("waiting for the connections to be set up")
        if current.jira is None:
            raise SideError("no Jira connection is configured ([jira])")
        fields = [m.jira for m in sci.mappings]
        jira = JiraSide(current.jira, sci.jira_projects[0], sci.jira_issue_type, fields)
        return jira, await zoho_side(sci, current, viewer)

    delivery = config.jira.delivery if config.jira else "webhook"
    public = config.daemon.public_url.rstrip("/")
    notifications = Notifications(f"{public}{ZOHO_CRM_PATH}", channels) if public else None
    return SciEngine(sci, store, sides, poll_jira=delivery in ("poll", "both"),
                     notifications=notifications, problems=problems,
                     panel_url=f"{public}{PANEL_PATH}" if public else "")


async def zoho_side(sci: SciConfig, connections: Connections, viewer: str = "") -> ZohoSide:
    source = sci.zoho
    if source.system == "crm":
        if connections.crm is None:
            raise SideError("no Zoho CRM connection is configured ([zoho.crm])")
        fields = [m.zoho for m in sci.mappings] + ([sci.rule.field] if sci.rule else [])
        return CrmSide(await connections.crm.crm_client(viewer), source.module, fields,
                       sci.status_field)
    if connections.projects is None:
        raise SideError("no Zoho Projects connection is configured ([zoho.projects])")
    return ProjectsSide(await connections.projects.projects_client(), source.portal_id,
                        source.project_id, source.module,
                        workdrive_folder=source.workdrive_folder)


def fingerprint(sci: SciConfig, config: Config) -> str:
    """Changes when the SCI or a connection it uses changes (the actor then restarts)."""
    used = [config.jira, config.zoho.crm if sci.zoho.system == "crm" else config.zoho.projects]
    encoded = msgspec.json.encode([sci, *used], enc_hook=str)  # secrets only enter the hash
    return hashlib.sha256(encoded).hexdigest()
