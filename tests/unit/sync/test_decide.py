"""decide(): the mode-by-owner matrix, echoes, conflicts, statuses, rules and auto-create."""

from typing import Any

import msgspec
import pytest

from bridge.sci import SciConfig
from bridge.sync.convert import Context
from bridge.sync.decide import Catalog, agrees, decide, decide_create
from bridge.sync.intents import (
    Agree,
    Conflict,
    CreateJiraIssue,
    Intent,
    Problem,
    SetZohoStatus,
    TransitionJira,
    UpdateJira,
    UpdateZoho,
)
from bridge.sync.model import Base, JiraSnapshot, JiraStatus, ZohoSnapshot
from bridge.sync.policy import Policy, policy_for
from bridge.sync.status import ZohoStatus

CTX = Context()
JIRA_STATUSES = (JiraStatus("To Do", "new"), JiraStatus("In Progress", "indeterminate"),
                 JiraStatus("Done", "done"))
CATALOG = Catalog(jira_statuses=JIRA_STATUSES,
                  zoho_statuses=(ZohoStatus("Open", False), ZohoStatus("In Review", False),
                                 ZohoStatus("Closed", True)))


def policy(mode: str = "two_way", owner: str | None = None, system: str = "crm",
           **extra: Any) -> Policy:
    zoho = ({"system": "crm", "module": "Cases"} if system == "crm" else
            {"system": "projects", "module": "tasks", "portal_id": "1", "project_id": "2"})
    mapping: dict[str, Any] = {"jira": "summary", "zoho": "Subject"}
    if owner:
        mapping["owner"] = owner
    config = msgspec.convert({"id": "s", "name": "S", "mode": mode, "jira_projects": ["SUP"],
                              "jira_issue_type": "Task", "zoho": zoho,
                              "mappings": [mapping], **extra}, SciConfig)
    return policy_for(config, {"summary": "text"})


def jira(summary: str = "a", status: str = "To Do", updated: float = 1.0) -> JiraSnapshot:
    category = next(s.category for s in JIRA_STATUSES if s.name == status)
    return JiraSnapshot(id="1", key="SUP-1", fields={"summary": summary},
                        status=JiraStatus(status, category), updated=updated)


def zoho(subject: str = "a", status: str = "", closed: bool | None = None,
         modified: float = 1.0, **fields: Any) -> ZohoSnapshot:
    return ZohoSnapshot(id="9", title=subject, fields={"Subject": subject, **fields},
                        status=status, status_closed=closed, modified=modified)


def base(summary: str = "a", **extra: Any) -> Base:
    return Base(fields={"summary": summary}, **extra)


def kinds(intents: list[Intent]) -> list[str]:
    return [type(i).__name__ for i in intents]


@pytest.mark.parametrize(("mode", "owner", "zoho_edit", "jira_edit", "expected"), [
    ("one_way", None, True, False, ["UpdateJira"]),
    ("one_way", None, False, True, []),
    ("two_way", None, True, False, ["UpdateJira"]),
    ("two_way", None, False, True, ["UpdateZoho"]),
    ("custom", "zoho", False, True, []),
    ("custom", "zoho", True, False, ["UpdateJira"]),
    ("custom", "jira", True, False, []),
    ("custom", "jira", False, True, ["UpdateZoho"]),
    ("custom", "both", False, True, ["UpdateZoho"]),
    ("display", None, True, True, []),
])
def test_only_owned_fields_flow(mode: str, owner: str | None, zoho_edit: bool,
                                jira_edit: bool, expected: list[str]) -> None:
    found = decide(policy(mode, owner) if mode != "display" else Policy(), base(),
                   jira("j" if jira_edit else "a"), zoho("z" if zoho_edit else "a"), CTX,
                   CATALOG)
    assert kinds(found) == expected


def test_our_own_write_coming_back_is_not_a_change() -> None:
    after_write = decide(policy(), base("new"), jira("new"), zoho("new"), CTX, CATALOG)
    assert after_write == []


def test_sides_that_converged_on_their_own_are_recorded_as_agreed() -> None:
    assert decide(policy(), base("old"), jira("same"), zoho("same"), CTX, CATALOG) == [
        Agree(fields={"summary": "same"}, reason="both sides already agree")]


def test_first_sync_seeds_from_zoho_unless_jira_owns_the_field() -> None:
    assert kinds(decide(policy(), None, jira("j"), zoho("z"), CTX, CATALOG)) == ["UpdateJira"]
    only_jira = decide(policy("custom", "jira"), None, jira("j"), zoho("z"), CTX, CATALOG)
    assert kinds(only_jira) == ["UpdateZoho"]


@pytest.mark.parametrize(("conflict", "jira_time", "zoho_time", "winner"), [
    ("latest", 5.0, 3.0, "jira"), ("latest", 3.0, 5.0, "zoho"),
    ("zoho_wins", 9.0, 1.0, "zoho"), ("jira_wins", 1.0, 9.0, "jira"),
])
def test_both_sides_changed_a_both_owned_field(conflict: str, jira_time: float,
                                               zoho_time: float, winner: str) -> None:
    found = decide(policy(conflict_policy=conflict), base("a"),
                   jira("j", updated=jira_time), zoho("z", modified=zoho_time), CTX, CATALOG)
    record = next(i for i in found if isinstance(i, Conflict))
    assert (record.jira_value, record.zoho_value, record.winner) == ("j", "z", winner)
    assert record.reason.endswith(f"({conflict}): Jira 'j', Zoho 'z'")  # history shows both
    write = next(i for i in found if isinstance(i, UpdateJira | UpdateZoho))
    assert isinstance(write, UpdateZoho if winner == "jira" else UpdateJira)


def test_one_way_field_changed_on_both_sides_is_overwritten_from_zoho_without_conflict() -> None:
    found = decide(policy("one_way"), base("a"), jira("j"), zoho("z"), CTX, CATALOG)
    assert kinds(found) == ["UpdateJira"]


def test_several_field_changes_go_out_as_one_jira_update() -> None:
    config = msgspec.convert({
        "id": "s", "name": "S", "mode": "one_way", "jira_projects": ["SUP"],
        "jira_issue_type": "Task", "zoho": {"system": "crm", "module": "Deals"},
        "mappings": [{"jira": "summary", "zoho": "Deal_Name"},
                     {"jira": "customfield_1", "zoho": "Amount"}]}, SciConfig)
    chosen = policy_for(config, {"summary": "text", "customfield_1": "number"})
    found = decide(chosen, Base(), JiraSnapshot(id="1", key="SUP-1"),
                   ZohoSnapshot(id="9", title="x", fields={"Deal_Name": "D", "Amount": 5}),
                   CTX, CATALOG)
    (update,) = found
    assert isinstance(update, UpdateJira)
    assert update.fields == {"summary": "D", "customfield_1": 5.0}


def test_unconvertible_value_is_a_problem_not_a_write() -> None:
    config = msgspec.convert({
        "id": "s", "name": "S", "mode": "two_way", "jira_projects": ["SUP"],
        "jira_issue_type": "Task", "zoho": {"system": "crm", "module": "Deals"},
        "mappings": [{"jira": "customfield_1", "zoho": "Amount", "type": "number"}]},
        SciConfig)
    found = decide(policy_for(config, {}), Base(), JiraSnapshot(id="1", key="SUP-1"),
                   ZohoSnapshot(id="9", title="x", fields={"Amount": "lots"}), CTX, CATALOG)
    assert [type(i) for i in found] == [Problem]
    assert "is not a number" in found[0].reason


# -- status -------------------------------------------------------------------------------
def test_zoho_status_moves_jira_by_explicit_map_then_by_name() -> None:
    mapped = policy(status_sync=True, status_field="Status",
                    status_map={"Escalated": "In Progress"})
    found = decide(mapped, base(zoho_status="New", jira_status="To Do"), jira(),
                   zoho(status="Escalated"), CTX, CATALOG)
    assert found == [TransitionJira(key="SUP-1", status="In Progress",
                                    agreed_zoho_status="Escalated",
                                    reason="Zoho status 'Escalated' → Jira 'In Progress'")]
    by_name = decide(mapped, base(zoho_status="New", jira_status="To Do"), jira(),
                     zoho(status="done"), CTX, CATALOG)
    assert isinstance(by_name[0], TransitionJira) and by_name[0].status == "Done"


def test_unmatched_crm_status_is_reported_not_guessed() -> None:
    found = decide(policy(status_sync=True, status_field="Status"),
                   base(zoho_status="New", jira_status="To Do"), jira(),
                   zoho(status="On Hold"), CTX, CATALOG)
    assert kinds(found) == ["Problem"] and "add it to status_map" in found[0].reason


def test_projects_status_falls_back_to_the_same_category_both_ways() -> None:
    projects = policy(system="projects", status_sync=True, status_field="status")
    closed = decide(projects, base(zoho_status="Open", jira_status="To Do"), jira(),
                    zoho(status="Resolved", closed=True), CTX, CATALOG)
    assert isinstance(closed[0], TransitionJira) and closed[0].status == "Done"
    done_in_jira = decide(projects, base(zoho_status="Open", jira_status="To Do"),
                          jira(status="Done"), zoho(status="Open", closed=False), CTX, CATALOG)
    assert done_in_jira == [SetZohoStatus(record_id="9", status="Closed",
                                          agreed_jira_status="Done",
                                          reason="Jira status 'Done' → Zoho 'Closed'")]


def test_crm_status_never_flows_back_to_zoho() -> None:
    found = decide(policy(status_sync=True, status_field="Status"),
                   base(zoho_status="New", jira_status="To Do"), jira(status="Done"),
                   zoho(status="New"), CTX, CATALOG)
    assert found == []


# -- conditional rule -----------------------------------------------------------------------
RULE = {"field": "Priority", "status_when_met": "In Progress", "status_when_not_met": "To Do"}


@pytest.mark.parametrize(("operator", "value", "priority", "met"), [
    ("equals", "High", "high", True), ("equals", "High", "Low", False),
    ("equals", "High", None, False),
    ("not_equals", "High", "Low", True), ("not_equals", "High", "High", False),
    ("not_equals", "High", None, True),
    ("is_empty", "", None, True), ("is_empty", "", "-None-", True),
    ("is_empty", "", "Low", False),
    ("is_not_empty", "", "Low", True), ("is_not_empty", "", "", False),
])
def test_rule_operators(operator: str, value: str, priority: Any, met: bool) -> None:
    ruled = policy("one_way", rule={**RULE, "operator": operator, "value": value})
    found = decide(ruled, base(zoho_status="?", jira_status="Done"), jira(status="Done"),
                   zoho(Priority=priority), CTX, CATALOG)
    (move,) = found
    assert isinstance(move, TransitionJira)
    assert move.status == ("In Progress" if met else "To Do")


def test_rule_takes_precedence_over_status_sync() -> None:
    ruled = policy("one_way", rule={**RULE, "operator": "equals", "value": "High"},
                   status_sync=True, status_field="Status")
    found = decide(ruled, base(zoho_status="To Do", jira_status="To Do"), jira(),
                   zoho(status="Closed", Priority="High"), CTX, CATALOG)
    assert [i.status for i in found if isinstance(i, TransitionJira)] == ["In Progress"]


def test_manual_jira_move_is_kept_while_the_rule_outcome_is_unchanged() -> None:
    ruled = policy("one_way", rule={**RULE, "operator": "equals", "value": "High"})
    found = decide(ruled, base(zoho_status="In Progress", jira_status="In Progress"),
                   jira(status="Done"), zoho(Priority="High"), CTX, CATALOG)
    assert found == []


# -- auto-create ----------------------------------------------------------------------------
def test_auto_create_needs_the_switch_and_a_met_rule_unless_asked() -> None:
    record = zoho("New case", Priority="Low")
    assert decide_create(policy(), record, CTX, CATALOG) == []
    ruled = {**RULE, "operator": "equals", "value": "High"}
    assert decide_create(policy(auto_create=True, rule=ruled), record, CTX, CATALOG) == []
    created = decide_create(policy(auto_create=True, rule={**ruled,
                                                           "create_when_not_met": True}),
                            record, CTX, CATALOG)
    assert isinstance(created[0], CreateJiraIssue) and created[0].status == "To Do"
    met = decide_create(policy(auto_create=True, rule=ruled), zoho("x", Priority="High"), CTX,
                        CATALOG)
    assert isinstance(met[0], CreateJiraIssue) and met[0].status == "In Progress"


def test_auto_created_summary_falls_back_to_the_record_title_and_reports_truncation() -> None:
    config = msgspec.convert({"id": "s", "name": "S", "mode": "one_way",
                              "jira_projects": ["SUP"], "jira_issue_type": "Task",
                              "zoho": {"system": "crm", "module": "Cases"},
                              "auto_create": True}, SciConfig)
    title = "x" * 300
    found = decide_create(policy_for(config, {}), zoho(title), CTX, CATALOG)
    create = found[0]
    assert isinstance(create, CreateJiraIssue) and len(create.fields["summary"]) == 255
    assert any("truncated" in i.reason for i in found if isinstance(i, Problem))


# -- echoes ---------------------------------------------------------------------------------
def test_a_side_holding_the_agreed_values_is_an_echo() -> None:
    status = policy(status_sync=True, status_field="Status")
    agreed = base("a", zoho_status="New", jira_status="To Do")
    assert agrees(status, agreed, "zoho", zoho("a", status="New"), CTX)
    assert agrees(status, agreed, "jira", jira("a"), CTX)
    assert not agrees(status, agreed, "zoho", zoho("b", status="New"), CTX)
    assert not agrees(status, agreed, "zoho", zoho("a", status="Closed"), CTX)
    assert not agrees(status, agreed, "jira", jira("a", status="Done"), CTX)
    assert not agrees(status, None, "zoho", zoho("a", status="New"), CTX)
