"""The parts the sync benchmarks stand on: the cron-sync baseline really syncs, the call
tally counts only the system under test, and the latency probe closes the right edits."""

import aiohttp
from aiohttp.test_utils import make_mocked_request

from bench.cron_sync import CronSync
from bench.latency import Probe, versioned
from bench.world import MODULE, connect, make_pairs, simulators, subject


async def test_the_cron_baseline_carries_changes_both_ways_and_is_counted() -> None:
    async with simulators() as sims, aiohttp.ClientSession() as session:
        first, second = await make_pairs(sims.people, 2, "pair")
        jira, crm = await connect(sims.jira, sims.accounts, sims.urls, session)
        cron = CronSync(jira, crm, [first, second], interval=0)
        await cron.cycle()
        assert (cron.writes, sims.tally.calls[("jira", "write")]) == (0, 0)
        await sims.people.crm.update_one(MODULE, first.record_id, {"Subject": "from zoho"})
        await sims.people.jira.edit_issue(second.issue_key, {"summary": "from jira"})
        sims.tally.reset()
        await cron.cycle()
        issue = sims.jira.state.issue(first.issue_id)
        assert issue is not None and issue.fields["summary"] == "from zoho"
        assert subject(sims, second.record_id) == "from jira"
        # list both sides, GET 2 issues and 2 cases, PUT one on each side
        assert dict(sims.tally.calls) == {("jira", "read"): 3, ("zoho_crm", "read"): 3,
                                          ("jira", "write"): 1, ("zoho_crm", "write"): 1}


def test_the_probe_closes_every_edit_a_write_carried() -> None:
    values = {"a": versioned("a", 1)}
    probe = Probe("zoho_crm", values.get)
    for seq, started in ((1, 0.0), (2, 0.0), (3, 0.0)):
        probe.sent("a", seq, started)
    request = make_mocked_request("PUT", "/crm/v8/Cases/1")
    probe.on_write("jira", request)  # another system's write closes nothing
    assert probe.missing == 3
    probe.on_write("zoho_crm", request)
    assert (probe.missing, len(probe.latencies)) == (2, 1)
    values["a"] = versioned("a", 3)  # a later edit carries the earlier one along
    probe.on_write("zoho_crm", request)
    assert (probe.missing, len(probe.latencies)) == (0, 3)
