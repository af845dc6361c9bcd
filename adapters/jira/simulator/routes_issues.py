"""Issues: create, bulk create, get, edit, delete, search (token-paginated), transitions."""

from __future__ import annotations

import base64
from typing import Any

from aiohttp import web

from adapters.jira.simulator.context import JiraHttpError, SimContext, json_body, reply
from adapters.jira.simulator.fields import FieldReader, change_item, not_settable
from adapters.jira.simulator.jql import JqlError, parse
from adapters.jira.simulator.render import View, names_of, selection
from adapters.jira.simulator.state import ISSUE_TYPES, Comment, Issue, Project

BULK_LIMIT = 50
SEARCH_MAX = 5000
PROPERTIES_MAX = 5
SEARCH_REMOVED = ("The requested API has been removed. Please migrate to the "
                  "/rest/api/3/search/jql API. A full migration guideline is available at "
                  "https://developer.atlassian.com/changelog/#CHANGE-2046")


def _ref(value: Any, *keys: str) -> str | None:
    if isinstance(value, dict):
        for key in keys:
            if value.get(key) is not None:
                return str(value[key])
    return None


def _names(value: Any) -> list[str]:
    """A list parameter given as a JSON list, a comma string, or repeated query values."""
    if isinstance(value, list):
        return [n.strip() for v in value for n in str(v).split(",") if n.strip()]
    return [n.strip() for n in str(value or "").split(",") if n.strip()]


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
        router.add_get(f"{api}/search", self.retired_search)
        router.add_post(f"{api}/search", self.retired_search)
        router.add_get(f"{api}/issue/{{issue}}/transitions", self.transitions)
        router.add_post(f"{api}/issue/{{issue}}/transitions", self.transition)

    def _reader(self, request: web.Request) -> FieldReader:
        return FieldReader(self.ctx, lambda value, name: self.ctx.document(request, value, name))

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
        stored, field_errors = self._reader(request).read(fields, creating=True)
        errors.update(field_errors)
        if errors or project is None or issue_type is None:
            raise JiraHttpError(400, errors=errors)
        return project, issue_type, stored

    def _create(self, view: View, body: Any, request: web.Request) -> dict[str, Any]:
        project, issue_type, fields = self._validated(request, body)
        issue = self.ctx.state.create_issue(project, issue_type, fields, self.ctx.caller())
        issue.properties.update(_properties(body))
        self.ctx.publish(view, "jira:issue_created", issue,
                         issue_event_type_name="issue_created")
        return {"id": issue.id, "key": issue.key, "self": f"{view.api}/issue/{issue.id}"}

    async def create(self, request: web.Request) -> web.Response:
        body = await json_body(request)
        return reply(self._create(self.ctx.view(request), body, request), 201)

    async def bulk_create(self, request: web.Request) -> web.Response:
        updates = (await json_body(request) or {}).get("issueUpdates", [])
        if len(updates) > BULK_LIMIT:
            raise JiraHttpError(400, (f"The number of issues to create exceeds the limit of "
                                      f"{BULK_LIMIT}.",))
        view = self.ctx.view(request)
        created, failed = [], []
        for index, update in enumerate(updates):
            try:
                created.append(self._create(view, update, request))
            except JiraHttpError as exc:
                failed.append({"status": 400, "failedElementNumber": index,
                               "elementErrors": {"errorMessages": exc.messages,
                                                 "errors": exc.errors}})
        return reply({"issues": created, "errors": failed}, 201 if created else 400)

    # -- read / edit / delete -----------------------------------------------------------
    async def get(self, request: web.Request) -> web.Response:
        issue = self.ctx.issue(request)
        expand = set(_names(request.query.get("expand")))
        chosen = selection(request.query.getall("fields", []), "*all")
        properties = set(_names(request.query.getall("properties", [])))
        return reply(self.ctx.view(request).issue(issue, chosen, expand, properties))

    async def edit(self, request: web.Request) -> web.Response:
        issue = self.ctx.issue(request)
        self.ctx.limits.write_issue(issue)
        body = await json_body(request) or {}
        update = dict(body.get("update") or {})
        comments = self._comment_bodies(request, update.pop("comment", []))
        changes = dict(body.get("fields") or {})
        for name, operations in update.items():
            changes[name] = _apply_operations(issue.fields.get(name), operations)
        if "status" in changes:
            raise JiraHttpError(400, errors={"status": not_settable("status")})
        stored, errors = self._reader(request).read(changes, creating=False)
        if errors:
            raise JiraHttpError(400, errors=errors)
        view = self.ctx.view(request)
        self._apply(view, issue, stored, comments)
        if request.query.get("returnIssue") == "true":
            return reply(view.issue(issue))
        return web.Response(status=204)

    def _comment_bodies(self, request: web.Request, operations: Any) -> list[dict[str, Any]]:
        """``update.comment`` = ``[{"add": {"body": …}}]``; validated before anything changes."""
        bodies = []
        for operation in operations if isinstance(operations, list) else []:
            body = self.ctx.document(request, (operation.get("add") or {}).get("body"),
                                     "comment")
            if not body:
                raise JiraHttpError(400, errors={"comment": "Comment body can not be empty!"})
            bodies.append(body)
        return bodies

    def _apply(self, view: View, issue: Issue, stored: dict[str, Any],
               comments: list[dict[str, Any]],
               status_change: dict[str, Any] | None = None) -> None:
        """Store changes and comments; one ``jira:issue_updated`` carries them all.

        Nothing changed and no comment: ``updated`` stays and no event is sent.
        """
        items = [*([status_change] if status_change else []),
                 *(change_item(name, issue.fields.get(name), value)
                   for name, value in stored.items() if issue.fields.get(name) != value)]
        if not items and not comments:
            return
        issue.fields.update(stored)
        caller = self.ctx.caller()
        added: Comment | None = None
        for body in comments:
            added = self.ctx.state.add_comment(issue, body, caller)
        extra: dict[str, Any] = {}
        if items:
            extra["changelog"] = {"id": self.ctx.state.record_change(issue, caller, items),
                                  "items": items}
        if added is not None:
            extra["comment"] = view.as_v2().comment(added, issue)
        self.ctx.publish(view, "jira:issue_updated", issue,
                         issue_event_type_name=_event_type(items, bool(status_change)), **extra)

    async def delete(self, request: web.Request) -> web.Response:
        issue = self.ctx.issue(request)
        self.ctx.publish(self.ctx.view(request), "jira:issue_deleted", issue,
                         issue_event_type_name="issue_deleted")
        del self.ctx.state.issues[issue.id]
        return web.Response(status=204)

    # -- search -----------------------------------------------------------------------
    async def retired_search(self, request: web.Request) -> web.Response:
        raise JiraHttpError(410, (SEARCH_REMOVED,))

    async def search(self, request: web.Request) -> web.Response:
        params: dict[str, Any] = dict(request.query)
        for name in ("fields", "properties", "reconcileIssues"):
            params[name] = request.query.getall(name, [])
        if request.method == "POST":
            params = await json_body(request) or {}
        properties = set(_names(params.get("properties")))
        if len(properties) > PROPERTIES_MAX:
            raise JiraHttpError(400, (f"The number of properties exceeds the limit of "
                                      f"{PROPERTIES_MAX}.",))
        matches = self._matches(str(params.get("jql") or ""),
                                set(_names(params.get("reconcileIssues"))))
        start = _decode_token(params.get("nextPageToken"))
        size = max(1, min(int(params.get("maxResults") or 50), SEARCH_MAX))
        view = self.ctx.view(request)
        chosen = selection(_names(params.get("fields")), "id")
        expand = set(_names(params.get("expand")))
        issues = [view.issue(i, chosen, expand - {"names"}, properties)
                  for i in matches[start:start + size]]
        body: dict[str, Any] = {"issues": issues, "isLast": start + size >= len(matches)}
        if not body["isLast"]:
            body["nextPageToken"] = base64.urlsafe_b64encode(
                f"offset:{start + size}".encode()).decode()
        if "names" in expand:
            body["names"] = names_of([i["fields"] for i in issues])
        return reply(body)

    def _matches(self, jql: str, reconcile: set[str]) -> list[Issue]:
        """Issues the index shows for ``jql``, sorted; ``reconcile`` ids are read fresh."""
        state = self.ctx.state
        try:
            query = parse(jql, zone=self.ctx.zone(), now=state.now())
        except JqlError as exc:
            raise JiraHttpError(400, (str(exc),)) from None
        seen: list[tuple[Issue, dict[str, Any]]] = []
        for issue in state.issues.values():
            indexed = issue.query_view() if issue.id in reconcile else state.searchable(issue)
            if indexed is not None and query.predicate(indexed):
                seen.append((issue, indexed))
        for field, descending in reversed(query.order):
            seen.sort(key=lambda pair: _sort_key(pair[1], field), reverse=descending)
        return [issue for issue, _ in seen]

    # -- transitions ------------------------------------------------------------------
    async def transitions(self, request: web.Request) -> web.Response:
        issue = self.ctx.issue(request)
        return reply({"expand": "transitions",
                      "transitions": self.ctx.view(request).transitions(issue)})

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
        comments = self._comment_bodies(request, (body.get("update") or {}).get("comment", []))
        stored, errors = self._reader(request).read(dict(body.get("fields") or {}),
                                                    creating=False)
        if errors:
            raise JiraHttpError(400, errors=errors)
        old, new = issue.status, issue.project.workflow.status(move.to)
        issue.status_id = new.id
        item = {"field": "status", "fieldtype": "jira", "fieldId": "status", "from": old.id,
                "fromString": old.name, "to": new.id, "toString": new.name}
        self._apply(self.ctx.view(request), issue, stored, comments, item)
        return web.Response(status=204)


def _properties(body: Any) -> dict[str, Any]:
    """Entity properties set at creation (``properties: [{key, value}]``)."""
    listed = body.get("properties") if isinstance(body, dict) else None
    return {p["key"]: p.get("value") for p in listed or []
            if isinstance(p, dict) and isinstance(p.get("key"), str)}


def _event_type(items: list[dict[str, Any]], transitioned: bool) -> str:
    """``issue_event_type_name`` of the ``jira:issue_updated`` an edit or transition raises."""
    if transitioned:
        return "issue_generic"
    if not items:
        return "issue_commented"
    return "issue_assigned" if any(i["fieldId"] == "assignee" for i in items) else "issue_updated"


def _apply_operations(current: Any, operations: Any) -> Any:
    value = list(current) if isinstance(current, list) else current
    for operation in operations if isinstance(operations, list) else []:
        for verb, argument in operation.items():
            if verb in ("set", "edit"):
                value = argument
            elif verb == "add" and isinstance(value, list):
                value = [*value, argument]
            elif verb == "remove" and isinstance(value, list):
                value = [v for v in value if v != argument]
    return value


def _sort_key(view: dict[str, Any], field: str) -> tuple[Any, ...]:
    if field == "key":
        project, number = view["key"].rsplit("-", 1)
        return (project, int(number))
    value = view.get(field, view["updated"])
    return (value is None, value if not isinstance(value, list) else " ".join(value))


def _decode_token(token: Any) -> int:
    if not token:
        return 0
    try:
        return int(base64.urlsafe_b64decode(str(token)).decode().removeprefix("offset:"))
    except (ValueError, UnicodeDecodeError):
        raise JiraHttpError(400, ("Invalid nextPageToken.",)) from None
