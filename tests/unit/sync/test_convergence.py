"""A state machine in the style of vdirsyncer's SyncMachine: random edits on both sides,
failed and repeated passes, crashes between a write and its bookkeeping, and a Zoho edit
racing a pass. After a clean pass both sides hold the most recent edit: nothing is lost,
nothing reverts, and a settled link produces no more writes (no echo)."""

from typing import Any

import msgspec
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from bridge.sci import SciConfig
from bridge.sync.convert import Context
from bridge.sync.decide import Catalog, decide, settle
from bridge.sync.intents import Agree, UpdateJira, UpdateZoho
from bridge.sync.model import Base, JiraSnapshot, ZohoSnapshot
from bridge.sync.policy import policy_for

POLICY = policy_for(msgspec.convert(
    {"id": "s", "name": "S", "mode": "two_way", "jira_projects": ["SUP"],
     "jira_issue_type": "Task", "zoho": {"system": "crm", "module": "Cases"},
     "mappings": [{"jira": "summary", "zoho": "Subject"}]}, SciConfig), {"summary": "text"})


class SyncMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.clock = 0
        self.jira, self.jira_time = "v0", 0
        self.zoho, self.zoho_time = "v0", 0
        self.base: Base | None = Base(fields={"summary": "v0"})
        self.latest = "v0"
        self.edits = 0
        self.outbox: list[Any] = []

    def tick(self) -> int:
        self.clock += 1
        return self.clock

    def new_value(self, side: str) -> str:
        self.edits += 1
        self.latest = f"{side}{self.edits}"
        return self.latest

    @rule()
    def edit_jira(self) -> None:
        self.jira, self.jira_time = self.new_value("j"), self.tick()

    @rule()
    def edit_zoho(self) -> None:
        self.zoho, self.zoho_time = self.new_value("z"), self.tick()

    @rule(fail_writes=st.booleans(), crash=st.booleans(), race=st.booleans())
    def sync(self, fail_writes: bool, crash: bool, race: bool) -> None:
        """One pass as the engine runs it: writes left from an earlier pass are settled
        (never replayed), then decide on fresh reads, then execute the new writes."""
        jira, zoho = self.snapshot_jira(), self.snapshot_zoho()
        self.base = settle(self.base, self.outbox, POLICY, jira, zoho, Context())
        self.outbox = decide(POLICY, self.base, jira, zoho, Context(), Catalog())
        if race:  # a Zoho edit lands between our read and our write
            self.edit_zoho()
        while self.outbox:
            intent = self.outbox[0]
            if fail_writes and isinstance(intent, UpdateJira | UpdateZoho):
                return  # stays queued for the next pass to settle
            self.apply(intent)
            if crash:  # the remote write happened, our bookkeeping did not
                return
            self.agree(intent)
            self.outbox.pop(0)

    def apply(self, intent: Any) -> None:
        match intent:
            case UpdateJira(fields=fields):
                self.jira, self.jira_time = fields["summary"], self.tick()
            case UpdateZoho(fields=fields, unmodified_since=since):
                if self.zoho_time <= since:  # else the conditional write is refused
                    self.zoho, self.zoho_time = fields["Subject"], self.tick()

    def agree(self, intent: Any) -> None:
        match intent:
            case UpdateJira(agreed=values) | UpdateZoho(agreed=values) | Agree(fields=values):
                self.base = (self.base or Base()).with_fields(values)

    def snapshot_jira(self) -> JiraSnapshot:
        return JiraSnapshot(id="1", key="SUP-1", fields={"summary": self.jira},
                            updated=float(self.jira_time))

    def snapshot_zoho(self) -> ZohoSnapshot:
        return ZohoSnapshot(id="9", title=self.zoho, fields={"Subject": self.zoho},
                            modified=float(self.zoho_time))

    @precondition(lambda self: self.edits > 0)
    @rule()
    def settle(self) -> None:
        for _ in range(3):
            self.sync(False, False, False)
        assert self.jira == self.zoho == self.latest, "a clean pass converges on the latest"
        assert decide(POLICY, self.base, self.snapshot_jira(), self.snapshot_zoho(),
                      Context(), Catalog()) == [], "a settled link writes nothing (no echo)"

    @invariant()
    def values_come_from_edits(self) -> None:
        assert self.jira[0] in "vjz" and self.zoho[0] in "vjz"


TestSyncMachine = SyncMachine.TestCase
TestSyncMachine.settings = settings(max_examples=150, stateful_step_count=30, deadline=None)
