"""Issues: create, bulk create, get, edit, delete, search (token-paginated), transitions."""

from __future__ import annotations

import base64
from typing import Any

from aiohttp import web

from adapters.jira import adf
from adapters.jira.simulator.context import JiraHttpError, SimContext, json_body, reply
from adapters.jira.simulator.jql import JqlError, parse
from adapters.jira.simulator.render import selection
from adapters.jira.simulator.state import (
    CUSTOM_FIELDS,
    ISSUE_TYPES,
    SUMMARY_LIMIT,
    Issue,
    Project,
)

BULK_LIMIT = 50
SEARCH_MAX = 5000
RICH_TEXT = ("description", "environment")
PLAIN_FIELDS = ("labels", "priority", "assignee", "duedate")


def _ref(value: Any, *keys: str) -> str | None:
    if isinstance(value, dict):
        for key in keys:
            if value.get(key) is not None:
                return str(value[key])
    return None


class IssueRoutes:
    def __init__(self, ctx: SimContext) -> None:
        self.ctx = ctx

    def add_to(self, router: web.UrlDispatcher) -> None:
        api = "/rest/api/{v:[23]}"
        router.add_post(f"{api}/issue", self.create)
        router.add_post(f"{api}/issue/bulk", self.bulk_create)
        router.add_get(f"{api}/issue/{{issue}}", self.get)
        router.add_put(f"{api}/issue/{{issue}}", self.edit)
        router.add_delete(f"{api}/issue/{{issue}}", self.delete)
        router.add_get(f"{api}/search/jql", self.search)
        router.add_post(f"{api}/search/jql", self.search)
        router.add_get(f"{api}/issue/{{issue}}/transitions", self.transitions)
        router.add_post(f"{api}/issue/{{issue}}/transitions", self.transition)

    # -- create -----------------------------------------------------------------------
    def _validated(self, request: web.Request, body: Any) -> tuple[Project, tuple[str, str],
                                                                   dict[str, Any]]:
        fields = body.get("fields") if isinstance(body, dict) else None
        if not isinstance(fields, dict):
            raise JiraHttpError(400, ("Issue must have fields.",))
        errors: dict[str, str] = {}
        project_ref = _ref(fields.get("project"), "key", "id")
        project = self.ctx.state.project(project_ref) if project_ref else None
        if project is None:
            errors["project"] = "valid project is required"
        type_ref = _ref(fields.get("issuetype"), "id", "name")
        issue_type = next((t for t in ISSUE_TYPES if type_ref in t), None)
        if issue_type is None:
            errors["issuetype"] = ("valid issue type is required" if type_ref is None
                                   else "The issue type selected is invalid.")
        stored, field_errors = self._fields(request, fields, creating=True)
        errors.update(field_errors)
        if errors or project is None or issue_type is None:
            raise JiraHttpError(400, errors=errors)
        return project, issue_type, stored

    def _fields(self, request: web.Request, fields: dict[str, Any],
                creating: bool) -> tuple[dict[str, Any], dict[str, str]]:
        stored: dict[str, Any] = {}
        errors: dict[str, str] = {}
        summary = fields.get("summary")
        if summary is not None or creating:
            if not summary:
                errors["summary"] = "You must specify a summary of the issue."
            elif len(summary) > SUMMARY_LIMIT:
                errors["summary"] = "Summary must be less than 255 characters."
            elif "\n" in summary:
                errors["summary"] = "Field 'summary' cannot contain newline characters."
            else:
                stored["summary"] = summary
        for name in RICH_TEXT:
            if name in fields:
                try:
                    stored[name] = self.ctx.document(request, fields[name], name)
                except JiraHttpError as exc:
                    errors.update(exc.errors)
        known_custom = {f["id"] for f in CUSTOM_FIELDS}
        for name, value in fields.items():
            if name in PLAIN_FIELDS or name in known_custom:
                stored[name] = value
            elif name.startswith("customfield_"):
                errors[name] = (f"Field '{name}' cannot be set. It is not on the appropriate "
                                "screen, or unknown.")
        return stored, errors

    async def create(self, request: web.Request) -> web.Response:
        project, issue_type, fields = self._validated(request, await json_body(request))
        view = self.ctx.view(request)
        issue = self.ctx.state.create_issue(project, issue_type, {"labels": [], **fields},
                                            self.ctx.caller())
        issue.properties.update(_properties(await json_body(request)))
        self.ctx.publish(view, "jira:issue_created", issue,
                         issue_event_type_name="issue_created")
        return reply({"id": issue.id, "key": issue.key, "self": f"{view.api}/issue/{issue.id}"},
                     201)

    async def bulk_create(self, request: web.Request) -> web.Response:
        updates = (await json_body(request) or {}).get("issueUpdates", [])
        if len(updates) > BULK_LIMIT:
            raise JiraHttpError(400, (f"The number of issues to create exceeds the limit of "
                                      f"{BULK_LIMIT}.",))
        view = self.ctx.view(request)
        created, failed = [], []
        for index, update in enumerate(updates):
            try:
                project, issue_type, fields = self._validated(request, update)
            except JiraHttpError as exc:
                failed.append({"status": 400, "failedElementNumber": index,
                               "elementErrors": {"errorMessages": exc.messages,
                                                 "errors": exc.errors}})
                continue
            issue = self.ctx.state.create_issue(project, issue_type, {"labels": [], **fields},
                                                self.ctx.caller())
            self.ctx.publish(view, "jira:issue_created", issue,
                             issue_event_type_name="issue_created")
            created.append({"id": issue.id, "key": issue.key,
                            "self": f"{view.api}/issue/{issue.id}"})
        return reply({"issues": created, "errors": failed}, 201 if created else 400)

    # -- read / edit / delete -----------------------------------------------------------
    async def get(self, request: web.Request) -> web.Response:
        issue = self.ctx.issue(request)
        expand = set(request.query.get("expand", "").split(","))
        chosen = selection(request.query.getall("fields", []), "*all")
        return reply(self.ctx.view(request).issue(issue, chosen, expand))

    async def edit(self, request: web.Request) -> web.Response:
        issue = self.ctx.issue(request)
        self.ctx.limits.write_issue(issue)
        body = await json_body(request) or {}
        changes = dict(body.get("fields") or {})
        for name, operations in (body.get("update") or {}).items():
            changes[name] = _apply_operations(issue.fields.get(name), operations)
        stored, errors = self._fields(request, changes, creating=False)
        if errors:
            raise JiraHttpError(400, errors=errors)
        items = [_change_item(name, issue.fields.get(name), value)
                 for name, value in stored.items() if issue.fields.get(name) != value]
        issue.fields.update(stored)
        view = self.ctx.view(request)
        self.ctx.state.record_change(issue, self.ctx.caller(), items)
        if items:
            self.ctx.publish(view, "jira:issue_updated", issue,
                             issue_event_type_name="issue_generic",
                             changelog={"id": issue.changelog[-1]["id"], "items": items})
        if request.query.get("returnIssue") == "true":
            return reply(view.issue(issue))
        return web.Response(status=204)

    async def delete(self, request: web.Request) -> web.Response:
        issue = self.ctx.issue(request)
        self.ctx.publish(self.ctx.view(request), "jira:issue_deleted", issue,
                         issue_event_type_name="issue_deleted")
        del self.ctx.state.issues[issue.id]
        return web.Response(status=204)

    # -- search -----------------------------------------------------------------------
    async def search(self, request: web.Request) -> web.Response:
        params: dict[str, Any] = dict(request.query)
        fields_raw = request.query.getall("fields", [])
        if request.method == "POST":
            params = await json_body(request) or {}
            fields_raw = [",".join(params.get("fields") or [])] if params.get("fields") else []
        try:
            query = parse(str(params.get("jql") or ""))
        except JqlError as exc:
            raise JiraHttpError(400, (str(exc),)) from None
        matches = [i for i in self.ctx.state.issues.values() if query.predicate(i.query_view())]
        matches.sort(key=lambda i: _sort_key(i, query.order_field), reverse=query.descending)
        start = _decode_token(params.get("nextPageToken"))
        size = max(1, min(int(params.get("maxResults") or 50), SEARCH_MAX))
        page = matches[start:start + size]
        view = self.ctx.view(request)
        chosen = selection(fields_raw, "id")
        expand_value = params.get("expand") or ""
        expand = set(expand_value if isinstance(expand_value, list) else expand_value.split(","))
        wanted = params.get("properties") or []
        names = set(wanted if isinstance(wanted, list) else str(wanted).split(","))
        body: dict[str, Any] = {"issues": [view.issue(i, chosen, expand, names - {""})
                                           for i in page],
                                "isLast": start + size >= len(matches)}
        if not body["isLast"]:
            body["nextPageToken"] = base64.urlsafe_b64encode(
                f"offset:{start + size}".encode()).decode()
        return reply(body)

    # -- transitions ------------------------------------------------------------------
    async def transitions(self, request: web.Request) -> web.Response:
        issue = self.ctx.issue(request)
        view = self.ctx.view(request)
        workflow = issue.project.workflow
        return reply({"expand": "transitions", "transitions": [
            {"id": t.id, "name": t.name, "to": view.status(workflow.status(t.to)),
             "hasScreen": False, "isGlobal": not t.sources, "isInitial": False,
             "isAvailable": True, "isConditional": False, "isLooped": False}
            for t in workflow.available(issue.status_id)]})

    async def transition(self, request: web.Request) -> web.Response:
        issue = self.ctx.issue(request)
        self.ctx.limits.write_issue(issue)
        body = await json_body(request) or {}
        wanted = _ref(body.get("transition"), "id")
        if wanted is None:
            raise JiraHttpError(400, ("Missing 'transition' identifier",))
        move = next((t for t in issue.project.workflow.available(issue.status_id)
                     if t.id == wanted), None)
        if move is None:
            raise JiraHttpError(400, (f"Transition id '{wanted}' is not valid for this issue.",))
        old, new = issue.status, issue.project.workflow.status(move.to)
        issue.status_id = new.id
        item = {"field": "status", "fieldtype": "jira", "fieldId": "status", "from": old.id,
                "fromString": old.name, "to": new.id, "toString": new.name}
        self.ctx.state.record_change(issue, self.ctx.caller(), [item])
        view = self.ctx.view(request)
        for operation in (body.get("update") or {}).get("comment", []):
            text = self.ctx.document(request, operation.get("add", {}).get("body"), "comment")
            if text:
                self.ctx.state.add_comment(issue, text, self.ctx.caller())
        self.ctx.publish(view, "jira:issue_updated", issue,
                         issue_event_type_name="issue_generic",
                         changelog={"id": issue.changelog[-1]["id"], "items": [item]})
        return web.Response(status=204)


def _properties(body: Any) -> dict[str, Any]:
    """Entity properties set at creation (``properties: [{key, value}]``)."""
    listed = body.get("properties") if isinstance(body, dict) else None
    return {p["key"]: p.get("value") for p in listed or []
            if isinstance(p, dict) and isinstance(p.get("key"), str)}


def _apply_operations(current: Any, operations: list[dict[str, Any]]) -> Any:
    value = list(current) if isinstance(current, list) else current
    for operation in operations:
        for verb, argument in operation.items():
            if verb in ("set", "edit"):
                value = argument
            elif verb == "add" and isinstance(value, list):
                value = [*value, argument]
            elif verb == "remove" and isinstance(value, list):
                value = [v for v in value if v != argument]
    return value


def _change_item(name: str, old: Any, new: Any) -> dict[str, Any]:
    def as_text(value: Any) -> str | None:
        if value is None:
            return None
        if isinstance(value, list):
            return " ".join(str(v) for v in value)
        if isinstance(value, dict):
            return adf.to_text(value) if value.get("type") == "doc" else str(
                value.get("name", value))
        return str(value)

    return {"field": name, "fieldtype": "custom" if name.startswith("customfield_") else "jira",
            "fieldId": name, "from": None, "fromString": as_text(old), "to": None,
            "toString": as_text(new)}


def _sort_key(issue: Issue, field: str) -> Any:
    view = issue.query_view()
    if field == "key":
        return (issue.project.key, int(issue.key.rsplit("-", 1)[1]))
    return view.get(field, issue.updated)


def _decode_token(token: Any) -> int:
    if not token:
        return 0
    try:
        return int(base64.urlsafe_b64decode(str(token)).decode().removeprefix("offset:"))
    except (ValueError, UnicodeDecodeError):
        raise JiraHttpError(400, ("Invalid nextPageToken.",)) from None
