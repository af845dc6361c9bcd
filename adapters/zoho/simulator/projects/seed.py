"""Demo data: a portal with two projects, task lists, tasks and issues with custom statuses
and custom fields, comments, a milestone, time logs and followers."""

from __future__ import annotations

from datetime import timedelta

from .store import ProjectsState, Record, ref

TASK_STATUSES = (("Open", False, "#74cb80"), ("In Progress", False, "#08aeea"),
                 ("In Review", False, "#e3a01b"), ("On Hold", False, "#f56b62"),
                 ("Closed", True, "#a9a9a9"), ("Cancelled", True, "#606060"))
ISSUE_STATUSES = (("Open", False, "#74cb80"), ("In progress", False, "#08aeea"),
                  ("To be tested", False, "#e3a01b"), ("Reopen", False, "#f56b62"),
                  ("Closed", True, "#a9a9a9"))
USERS = (("Ada Admin", "ada@example.com"), ("Ben Builder", "ben@example.com"),
         ("Cleo Checker", "cleo@example.com"))


def seed(state: ProjectsState) -> None:
    """Seeded records are stamped a week in the past, so later writes are always newer."""
    live_clock = state.now
    week_ago = live_clock() - timedelta(days=7)
    state.now = lambda: week_ago
    try:
        _fill(state)
    finally:
        state.now = live_clock


def _fill(state: ProjectsState) -> None:
    _people_and_portal(state)
    for module, table in (("tasks", TASK_STATUSES), ("issues", ISSUE_STATUSES)):
        state.statuses[module] = [
            {"id": state.new_id(), "name": name, "color_hexcode": colour,
             "is_closed_type": closed} for name, closed, colour in table]
    website = _project(state, "Website Relaunch", "WEB1")
    mobile = _project(state, "Mobile App", "MOB1")
    _website_work(state, website)
    ada = state.users[0]
    state.create("tasks", mobile["id"], {"name": "Set up CI", "priority": "low"}, ada)


def _people_and_portal(state: ProjectsState) -> None:
    for number, (name, email) in enumerate(USERS):
        first, last = name.split()
        state.users.append({"zpuid": state.new_id(), "zuid": str(70000000 + number),
                            "name": name, "email": email, "first_name": first,
                            "last_name": last, "full_name": name})
    state.portal.update({"id": state.new_id(), "portal_name": "bridgedemo",
                         "org_name": "Bridge Demo Ltd", "timezone": "Europe/London",
                         "is_default_portal": True, "created_time": state.stamp()})


def _project(state: ProjectsState, name: str, prefix: str) -> Record:
    stamp, project_id = state.stamp(), state.new_id()
    project: Record = {"id": project_id, "name": name, "prefix": prefix, "key": prefix,
               "description": f"<div>{name}</div>", "project_type": "active",
               "status": {"id": state.new_id(), "name": "Active", "color_hexcode": "#74cb80",
                          "is_closed_type": False},
               "start_date": "2026-01-05", "end_date": "2026-12-18", "created_time": stamp,
               "modified_time": stamp, "owner": state.users[0], "is_public_project": False,
               "is_completed": False, "percent_complete": 0}
    state.projects[project_id] = project
    no_milestone = state.new_id()
    state.tasklists[project_id] = [
        {"id": state.new_id(), "name": "General", "milestone_id": no_milestone},
        {"id": state.new_id(), "name": "Launch", "milestone_id": no_milestone}]
    state.milestones[project_id] = []
    state.timelogs[project_id] = []
    return project


def _website_work(state: ProjectsState, project: Record) -> None:
    ada, ben, cleo = state.users
    pid = project["id"]
    statuses = {s["name"]: s for s in state.statuses["tasks"]}
    launch = state.tasklists[pid][1]
    milestone = {"id": state.new_id(), "name": "Beta launch", "start_date": "2026-02-02",
                 "end_date": "2026-03-27", "flag": "internal", "owner": ada,
                 "status": {"id": state.new_id(), "name": "notcompleted",
                            "is_closed_type": False},
                 "created_time": state.stamp(), "last_modified_time": state.stamp()}
    state.milestones[pid].append(milestone)
    launch["milestone_id"] = milestone["id"]
    design = state.create("tasks", pid, {
        "name": "Design landing page", "description": "<p>Hero, pricing, footer.</p>",
        "priority": "high", "owners_and_work": {"owners": [{"zpuid": ben["zpuid"]}]},
        "start_date": "2026-02-02", "end_date": "2026-02-13",
        "cf_billing_type": "Billable"}, ada)
    copy = state.create("tasks", pid, {
        "name": "Write launch copy", "priority": "medium", "tasklist": {"id": launch["id"]},
        "status": {"id": statuses["In Progress"]["id"]}, "cf_billing_type": "Non Billable"},
        ada)
    copy["milestone"] = ref(milestone)
    state.create("tasks", pid, {"name": "Book domain", "status":
                                {"id": statuses["Closed"]["id"]}}, ada)
    bug = state.create("issues", pid, {
        "name": "Login button misaligned on Safari", "description": "<p>Off by 4px.</p>",
        "assignee": {"zpuid": cleo["zpuid"]}, "flag": "External",
        "severity": {"id": state.new_id(), "name": "Major"}, "cf_billing_type": "Billable",
        "cf_customer_impact": "Medium"}, ada)
    state.create("issues", pid, {"name": "Typo in footer", "severity":
                                 {"id": state.new_id(), "name": "Minor"}}, ben)
    state.associated[design["id"]] = {bug["id"]}
    state.add_comment(design, "<p>First draft is in Figma.</p>", ben)
    state.add_comment(bug, "<p>Reproduced on Safari 18.</p>", cleo)
    state.followers[design["id"]] = [ada, ben]
    state.followers[bug["id"]] = [cleo]
    state.timelogs[pid] += [
        {"id": state.new_id(), "date": "2026-02-03", "hours": "02:30",
         "notes": "Wireframes", "bill_status": "Billable", "owner": ben,
         "module": {"type": "task", "id": design["id"], "name": design["name"]},
         "created_time": state.stamp(), "last_modified_time": state.stamp()},
        {"id": state.new_id(), "date": "2026-02-04", "hours": "01:00",
         "notes": "Triage", "bill_status": "Non Billable", "owner": cleo,
         "module": {"type": "issue", "id": bug["id"], "name": bug["name"]},
         "created_time": state.stamp(), "last_modified_time": state.stamp()}]
