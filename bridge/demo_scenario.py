"""The demo's seeded scenario, played through the simulators' APIs once the daemon is ready.

New CRM cases and a Projects task become linked Jira issues (auto-create); then one pair
gets comments both ways and a file, one pair a summary edited on both sides at the same
moment (a conflict in the history of ``support-cases``) and one pair a Jira priority the
CRM's restricted Priority picklist refuses for good (a dead letter).
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

import aiohttp
import anyio
import structlog

from bridge.console.client import SimulatorClient, SimulatorRefused

log = structlog.get_logger("bridge.demo")
T = TypeVar("T")

LINK_TIMEOUT = 30.0
SETTLE = 3.0  # lets the passes each new link starts (link note, remote link) finish

CASES = {
    "comments": {"Subject": "Checkout shows prices in the wrong currency",
                 "Status": "Escalated", "Priority": "High",
                 "Description": "Customers in Canada see USD totals at checkout."},
    "conflict": {"Subject": "Cannot add a second administrator", "Status": "New",
                 "Priority": "Medium",
                 "Description": "The invite button stays disabled for the owner account."},
    "dead_letter": {"Subject": "Invoice PDF is missing the company logo", "Status": "New",
                    "Priority": "Low", "Description": "Started after Monday's template update."},
}
TASKS = ("Offline mode for the order list", "Push notification when an order ships")
ISSUES = ("App crashes when the sign-in screen rotates",)  # become ENG bugs (one-way)
CONFLICT_EDITS = ("Second admin cannot be invited (owner account)",
                  "Invite button disabled for a second administrator")
REFUSED_PRIORITY = "Highest"  # Jira has it; the CRM's Cases Priority picklist does not


async def play(client: SimulatorClient, daemon_url: str) -> None:
    """Seed the scenario; a step the simulators refuse is logged and the rest goes on."""
    try:
        await _wait_ready(client, daemon_url)
        cases = {name: await client.create_case(values) for name, values in CASES.items()}
        for name in TASKS:
            await client.create_task(name)
        for name in ISSUES:
            await client.create_task(name, module="issues")
        keys = {name: await _linked_issue(client, record_id) for name, record_id in cases.items()}
        await anyio.sleep(SETTLE)
        await _comments_and_file(client, keys["comments"], cases["comments"])
        await _conflict(client, keys["conflict"], cases["conflict"])
        await client.edit_issue(keys["dead_letter"], {"priority": {"name": REFUSED_PRIORITY}})
        log.info("demo.scenario_seeded", issues=keys)
    except (SimulatorRefused, aiohttp.ClientError, TimeoutError) as exc:
        log.warning("demo.scenario_incomplete", error=str(exc))


async def _wait_ready(client: SimulatorClient, daemon_url: str) -> None:
    async def ready() -> bool:
        try:
            async with client.session.get(f"{daemon_url}/readyz") as response:
                return response.status == 200
        except aiohttp.ClientError:
            return False

    await _until(ready, "the daemon to be ready")


async def _linked_issue(client: SimulatorClient, record_id: str) -> str:
    """The key of the Jira issue auto-created for the record, once its remote link is set
    (the engine adds it right after storing the link)."""
    async def found() -> str:
        return client.linked_issue(record_id)

    return await _until(found, f"the Jira issue linked to {record_id}")


async def _comments_and_file(client: SimulatorClient, key: str, case_id: str) -> None:
    await client.comment_issue(key, "Reproduced with a Canadian test account: the currency "
                                    "follows the browser locale, not the billing country.")
    await client.note_case(case_id, "Customer call",
                           "The customer confirms it started with last week's release.")
    await client.attach_to_issue(key, "checkout-totals.csv",
                                 b"order,country,currency,total\n1042,CA,USD,118.00\n")


async def _conflict(client: SimulatorClient, key: str, case_id: str) -> None:
    """The Jira edit's webhook delivery is lost, so the pass the CRM edit triggers finds
    the summary changed on both sides (the later edit, the CRM one, wins)."""
    jira_summary, crm_subject = CONFLICT_EDITS
    client.edit_summary_unannounced(key, jira_summary)
    await anyio.sleep(1.1)  # Zoho keeps whole seconds: the CRM edit is clearly the later
    await client.edit_case(case_id, {"Subject": crm_subject})


async def _until(check: Callable[[], Awaitable[T]], what: str) -> T:
    deadline = time.monotonic() + LINK_TIMEOUT
    while not (result := await check()):
        if time.monotonic() > deadline:
            raise TimeoutError(f"gave up waiting for {what}")
        await anyio.sleep(0.2)
    return result
