"""Server info, identity and users, fields, projects/statuses, admin webhook registration."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from adapters.jira.simulator.context import JiraHttpError, SimContext, json_body, reply
from adapters.jira.simulator.delivery import Hook
from adapters.jira.simulator.render import View
from adapters.jira.simulator.state import (
    CATEGORIES,
    CUSTOM_FIELDS,
    ISSUE_TYPES,
    SYSTEM_FIELDS,
    Project,
)

WEBHOOK_PATH = "/rest/webhooks/1.0/webhook"


class MetaRoutes:
    def __init__(self, ctx: SimContext) -> None:
        self.ctx = ctx

    def add_to(self, router: web.UrlDispatcher) -> None:
        api = "/rest/api/{v:[23]}"
        router.add_get(f"{api}/serverInfo", self.server_info)
        router.add_get(f"{api}/myself", self.myself)
        router.add_get(f"{api}/field", self.fields)
        router.add_get(f"{api}/user", self.user)
        router.add_get(f"{api}/project", self.projects)
        router.add_get(f"{api}/project/search", self.search_projects)
        router.add_get(f"{api}/project/{{project}}", self.project)
        router.add_get(f"{api}/project/{{project}}/statuses", self.project_statuses)
        router.add_get(f"{api}/issuetype", self.issue_types)
        router.add_get(f"{api}/status", self.statuses)
        router.add_get(f"{api}/statuscategory", self.status_categories)
        router.add_get(WEBHOOK_PATH, self.list_hooks)
        router.add_post(WEBHOOK_PATH, self.create_hook)
        router.add_get(f"{WEBHOOK_PATH}/{{id:\\d+}}", self.get_hook)
        router.add_put(f"{WEBHOOK_PATH}/{{id:\\d+}}", self.update_hook)
        router.add_delete(f"{WEBHOOK_PATH}/{{id:\\d+}}", self.delete_hook)
        router.add_get("/rest/applinks/latest/listApplicationlinks", self.application_links)

    async def server_info(self, request: web.Request) -> web.Response:
        view = self.ctx.view(request)
        return reply({"baseUrl": view.base, "version": "1001.0.0-SNAPSHOT",
                      "versionNumbers": [1001, 0, 0], "deploymentType": "Cloud",
                      "buildNumber": 100295, "serverTitle": "Jira", "scmInfo": "simulator",
                      "serverTime": view.time(self.ctx.state.now())})

    async def myself(self, request: web.Request) -> web.Response:
        return reply(self.ctx.view(request).account(self.ctx.caller()))

    async def user(self, request: web.Request) -> web.Response:
        account_id = request.query.get("accountId")
        if not account_id:
            raise JiraHttpError(400, ("The accountId query parameter needs to be provided.",))
        user = self.ctx.state.user(account_id)
        if user is None:
            raise JiraHttpError(404, ("Specified user does not exist or you do not have "
                                      "required permissions",))
        return reply(self.ctx.view(request).account(user))

    async def fields(self, request: web.Request) -> web.Response:
        system = [{"id": fid, "key": fid, "name": name, "custom": False, "orderable": True,
                   "navigable": True, "searchable": True, "clauseNames": [fid],
                   "schema": {"type": kind, "system": fid}} for fid, name, kind in SYSTEM_FIELDS]
        custom = [{"id": f["id"], "key": f["id"], "name": f["name"], "custom": True,
                   "orderable": True, "navigable": True, "searchable": True,
                   "clauseNames": [f"cf[{f['id'].split('_')[1]}]", f["name"]],
                   "schema": {**f["schema"], "customId": int(f["id"].split("_")[1])}}
                  for f in CUSTOM_FIELDS]
        return reply(system + custom)

    def _project(self, request: web.Request) -> Project:
        project = self.ctx.state.project(request.match_info["project"])
        if project is None:
            raise JiraHttpError(404, (f"No project could be found with key "
                                      f"'{request.match_info['project']}'.",))
        return project

    async def projects(self, request: web.Request) -> web.Response:
        view = self.ctx.view(request)
        return reply([view.project(p) for p in self.ctx.state.projects.values()])

    async def search_projects(self, request: web.Request) -> web.Response:
        """``project/search``: Cloud's paged project list (``PageBeanProject``)."""
        query = request.query
        try:
            start = max(0, int(query.get("startAt", 0)))
            size = max(1, min(int(query.get("maxResults", 50)), 100))
        except ValueError:
            raise JiraHttpError(400, ("startAt and maxResults must be integers.",)) from None
        order = query.get("orderBy", "key")
        if order.lstrip("+-") not in ("key", "name", "id"):
            raise JiraHttpError(400, (f"Invalid orderBy value '{order}'.",))
        wanted = {k.upper() for k in _listed(query.getall("keys", []))}
        text = query.get("query", "").lower()
        projects = [p for p in self.ctx.state.projects.values()
                    if (not wanted or p.key in wanted)
                    and (text in p.key.lower() or text in p.name.lower())]
        field = order.lstrip("+-")
        projects.sort(key=lambda p: int(p.id) if field == "id" else getattr(p, field),
                      reverse=order.startswith("-"))
        view = self.ctx.view(request)
        url = request.url
        page: dict[str, Any] = {
            "self": str(url), "maxResults": size, "startAt": start, "total": len(projects),
            "isLast": start + size >= len(projects),
            "values": [view.project(p) for p in projects[start:start + size]]}
        if not page["isLast"]:
            page["nextPage"] = str(url.update_query(startAt=start + size, maxResults=size))
        return reply(page)

    async def project(self, request: web.Request) -> web.Response:
        view = self.ctx.view(request)
        project = self._project(request)
        return reply({**view.project(project),
                      "issueTypes": [view.issue_type(*t) for t in ISSUE_TYPES]})

    async def project_statuses(self, request: web.Request) -> web.Response:
        view = self.ctx.view(request)
        project = self._project(request)
        statuses = [view.status(s) for s in project.workflow.statuses]
        return reply([{"self": f"{view.api}/issuetype/{type_id}", "id": type_id, "name": name,
                       "subtask": False, "statuses": statuses} for type_id, name in ISSUE_TYPES])

    async def issue_types(self, request: web.Request) -> web.Response:
        view = self.ctx.view(request)
        return reply([view.issue_type(*t) for t in ISSUE_TYPES])

    async def statuses(self, request: web.Request) -> web.Response:
        view = self.ctx.view(request)
        unique = {s.id: s for p in self.ctx.state.projects.values() for s in p.workflow.statuses}
        return reply([view.status(s) for s in unique.values()])

    async def status_categories(self, request: web.Request) -> web.Response:
        view = self.ctx.view(request)
        return reply([view.category(key) for key in CATEGORIES])

    async def application_links(self, request: web.Request) -> web.Response:
        return reply([])

    # -- admin webhooks -----------------------------------------------------------------
    def _hook_json(self, view: View, hook: Hook) -> dict[str, Any]:
        return {"name": hook.name, "url": hook.url, "events": hook.events,
                "filters": {"issue-related-events-section": hook.jql},
                "excludeBody": hook.exclude_body, "enabled": hook.enabled,
                "isSigned": bool(hook.secret),
                "self": f"{view.base}{WEBHOOK_PATH}/{hook.id}",
                "lastUpdatedUser": self.ctx.caller().account_id}

    def _hook(self, request: web.Request) -> Hook:
        hook = self.ctx.deliveries.hooks.get(int(request.match_info["id"]))
        if hook is None:
            raise JiraHttpError(404, ("Webhook not found.",))
        return hook

    @staticmethod
    async def _hook_fields(request: web.Request) -> dict[str, Any]:
        body = await json_body(request) or {}
        errors = {k: f"'{k}' is required." for k in ("name", "url") if not body.get(k)}
        if not isinstance(body.get("events"), list) or not body.get("events"):
            errors["events"] = "At least one event is required."
        if errors:
            raise JiraHttpError(400, errors=errors)
        return {"name": body["name"], "url": body["url"], "events": list(body["events"]),
                "jql": (body.get("filters") or {}).get("issue-related-events-section", ""),
                "secret": body.get("secret") or None, "enabled": body.get("enabled", True),
                "exclude_body": bool(body.get("excludeBody", False))}

    async def list_hooks(self, request: web.Request) -> web.Response:
        view = self.ctx.view(request)
        return reply([self._hook_json(view, h) for h in self.ctx.deliveries.hooks.values()])

    async def create_hook(self, request: web.Request) -> web.Response:
        hook = self.ctx.deliveries.add_hook(**await self._hook_fields(request))
        return reply(self._hook_json(self.ctx.view(request), hook), 201)

    async def get_hook(self, request: web.Request) -> web.Response:
        return reply(self._hook_json(self.ctx.view(request), self._hook(request)))

    async def update_hook(self, request: web.Request) -> web.Response:
        hook = self._hook(request)
        for name, value in (await self._hook_fields(request)).items():
            setattr(hook, name, value)
        return reply(self._hook_json(self.ctx.view(request), hook))

    async def delete_hook(self, request: web.Request) -> web.Response:
        del self.ctx.deliveries.hooks[self._hook(request).id]
        return web.Response(status=204)


def _listed(values: list[str]) -> list[str]:
    return [v.strip() for value in values for v in value.split(",") if v.strip()]
