"""Typed async client for the Jira Cloud REST API v3 (ADF bodies).

Times: Jira answers in the account's profile time zone and reads zone-less JQL literals
in it too, so ``jql_instant`` builds literals in that zone (``time_zone``, from
``/myself``) and ``parse_jira_time`` turns any answer's timestamp into an aware datetime.
"""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator, Callable, Sequence
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import aiohttp
import msgspec

from adapters.http import Answer, Budget, Outcome, RemoteError, StaticAuth, Transport
from adapters.jira import adf
from adapters.jira.timefmt import jql_literal, parse_jira_time

BULK_LIMIT = 50
DEFAULT_ATTACHMENT_CAP = 10 * 1024 * 1024
WEBHOOK_PATH = "/rest/webhooks/1.0/webhook"


class JiraError(RemoteError):
    def __init__(self, message: str, *, status: int | None, outcome: Outcome,
                 error_messages: list[str], errors: dict[str, str]) -> None:
        super().__init__("jira", message, status=status, outcome=outcome)
        self.error_messages = error_messages
        self.errors = errors


class NoTransition(JiraError):
    """The workflow offers no transition from the issue's status to the wanted one."""


class AttachmentTooLarge(JiraError):
    pass


class _ErrorBody(msgspec.Struct):
    errorMessages: list[str] = []
    errors: dict[str, str] = {}


def jira_error(answer: Answer, outcome: Outcome) -> JiraError:
    try:
        body = msgspec.json.decode(answer.body, type=_ErrorBody)
    except (msgspec.DecodeError, msgspec.ValidationError):
        body = _ErrorBody(errorMessages=[answer.body[:200].decode("utf-8", "replace")])
    parts = [*body.errorMessages, *(f"{k}: {v}" for k, v in body.errors.items())]
    if outcome is Outcome.AUTH:
        parts.insert(0, "connection needs attention (credentials rejected or missing permission)")
    return JiraError("; ".join(p for p in parts if p) or f"HTTP {answer.status}",
                     status=answer.status, outcome=outcome,
                     error_messages=body.errorMessages, errors=body.errors)


# -- views ---------------------------------------------------------------------------------
class CreatedIssue(msgspec.Struct, frozen=True):
    id: str
    key: str


class BulkFailure(msgspec.Struct, frozen=True):
    index: int
    messages: list[str]
    errors: dict[str, str]


class BulkResult(msgspec.Struct, frozen=True):
    created: list[CreatedIssue]
    failed: list[BulkFailure]


class StatusCategory(msgspec.Struct, frozen=True):
    key: str
    name: str = ""


class Status(msgspec.Struct, frozen=True):
    id: str
    name: str
    statusCategory: StatusCategory


class Transition(msgspec.Struct, frozen=True):
    id: str
    name: str
    to: Status


class Issue(msgspec.Struct, frozen=True):
    id: str
    key: str
    fields: dict[str, Any] = {}
    changelog: dict[str, Any] | None = None
    properties: dict[str, Any] = {}
    transitions: list[Transition] | None = None

    @property
    def created_at(self) -> datetime | None:
        """``fields.created`` as an aware datetime (None when not requested)."""
        return _time_field(self.fields, "created")

    @property
    def updated_at(self) -> datetime | None:
        return _time_field(self.fields, "updated")


class Author(msgspec.Struct, frozen=True):
    accountId: str = ""
    displayName: str = ""


class Comment(msgspec.Struct, frozen=True):
    id: str
    body: dict[str, Any]
    created: str
    updated: str
    author: Author = Author()
    visibility: dict[str, Any] | None = None  # {"type": "role"|"group", "value": ...}

    @property
    def text(self) -> str:
        return adf.to_text(self.body)

    @property
    def created_at(self) -> datetime:
        return parse_jira_time(self.created)

    @property
    def updated_at(self) -> datetime:
        return parse_jira_time(self.updated)


class Attachment(msgspec.Struct, frozen=True):
    id: str | int
    filename: str
    size: int
    mimeType: str = "application/octet-stream"
    content: str = ""


class RemoteLinkRef(msgspec.Struct, frozen=True):
    id: int


class RemoteLink(msgspec.Struct, frozen=True):
    id: int
    globalId: str | None = None
    object: dict[str, Any] = {}


class Webhook(msgspec.Struct, frozen=True):
    id: int
    name: str
    url: str
    events: list[str]
    jql: str
    enabled: bool = True


class _Page(msgspec.Struct):
    issues: list[Issue] = []
    nextPageToken: str | None = None
    isLast: bool = True


class _ProjectPage(msgspec.Struct):
    values: list[dict[str, Any]] = []
    isLast: bool = True


class _Comments(msgspec.Struct):
    comments: list[Comment] = []
    total: int = 0


class _Transitions(msgspec.Struct):
    transitions: list[Transition] = []


class _HookBody(msgspec.Struct):
    name: str
    url: str
    events: list[str]
    self: str
    filters: dict[str, str] = {}
    enabled: bool = True

    def view(self) -> Webhook:
        return Webhook(id=int(self.self.rstrip("/").rsplit("/", 1)[1]), name=self.name,
                       url=self.url, events=self.events, enabled=self.enabled,
                       jql=self.filters.get("issue-related-events-section", ""))


def _decode(answer: Answer, kind: type[Any]) -> Any:
    return msgspec.json.decode(answer.body, type=kind)


def _time_field(fields: dict[str, Any], name: str) -> datetime | None:
    value = fields.get(name)
    return parse_jira_time(value) if isinstance(value, str) else None


def _checked_document(value: Any, name: str) -> Any:
    """Refuse ADF that Jira would answer with a bare ``INVALID_INPUT``, saying why."""
    if not isinstance(value, dict):
        return value
    problems = adf.problems(value)
    if problems:
        raise JiraError(f"{name}: not a valid Atlassian document: {'; '.join(problems)}",
                        status=None, outcome=Outcome.PERMANENT, error_messages=[],
                        errors={name: "; ".join(problems)})
    return value


def _checked_fields(fields: dict[str, Any] | None) -> dict[str, Any] | None:
    if fields:
        for name in ("description", "environment"):
            if name in fields:
                _checked_document(fields[name], name)
    return fields


# -- client --------------------------------------------------------------------------------
class JiraClient:
    def __init__(self, site_url: str, transport: Transport) -> None:
        self.site_url = site_url.rstrip("/")
        self.api = f"{self.site_url}/rest/api/3"
        self.transport = transport
        self._zone: ZoneInfo | None = None

    @classmethod
    def basic(cls, site_url: str, email: str, api_token: str, session: aiohttp.ClientSession,
              budget: Budget | None = None) -> JiraClient:
        token = base64.b64encode(f"{email}:{api_token}".encode()).decode()
        auth = StaticAuth({"Authorization": f"Basic {token}"})
        return cls(site_url, Transport("jira", session, auth=auth, budget=budget,
                                       error_factory=jira_error))

    @classmethod
    def bearer(cls, api_base: str, access_token: str, session: aiohttp.ClientSession,
               budget: Budget | None = None) -> JiraClient:
        """OAuth 2.0: ``api_base`` is ``https://api.atlassian.com/ex/jira/<cloudId>``."""
        auth = StaticAuth({"Authorization": f"Bearer {access_token}"})
        return cls(api_base, Transport("jira", session, auth=auth, budget=budget,
                                       error_factory=jira_error))

    async def _json(self, method: str, path: str, *, body: Any = None, safe: bool | None = None,
                    params: dict[str, str] | None = None, base: str | None = None,
                    expect: tuple[int, ...] = ()) -> Answer:
        headers = {"Accept": "application/json"}
        data = None
        if body is not None:
            headers["Content-Type"] = "application/json"
            data = msgspec.json.encode(body)
        return await self.transport.request(method, f"{base or self.api}{path}", safe=safe,
                                            params=params, data=data, headers=headers,
                                            expect=expect)

    # -- identity and metadata ------------------------------------------------------------
    async def myself(self) -> dict[str, Any]:
        return (await self._json("GET", "/myself")).json()

    async def user(self, account_id: str) -> dict[str, Any]:
        """A user; ``emailAddress`` is None when their privacy settings hide it."""
        return (await self._json("GET", "/user", params={"accountId": account_id})).json()

    async def time_zone(self) -> ZoneInfo:
        """The account's profile zone (read once from ``/myself``): Jira renders times and
        reads zone-less JQL literals in it."""
        if self._zone is None:
            name = (await self.myself()).get("timeZone")
            try:
                self._zone = ZoneInfo(str(name))
            except (ZoneInfoNotFoundError, ValueError):
                raise JiraError(f"/myself gave no usable timeZone ({name!r})", status=None,
                                outcome=Outcome.PERMANENT, error_messages=[],
                                errors={}) from None
        return self._zone

    async def jql_instant(self, when: datetime) -> str:
        """A quoted JQL literal ``"yyyy-MM-dd HH:mm"`` for ``when`` (aware) in the account's
        zone. JQL has minute precision: the minute is rounded down, so ``>=`` includes
        ``when``."""
        return jql_literal(when, await self.time_zone())

    async def projects(self, page_size: int = 50) -> list[dict[str, Any]]:
        """Every visible project, paged through ``project/search`` (Cloud's current list)."""
        found: list[dict[str, Any]] = []
        while True:
            params = {"startAt": str(len(found)), "maxResults": str(page_size)}
            page = _decode(await self._json("GET", "/project/search", params=params),
                           _ProjectPage)
            found.extend(page.values)
            if page.isLast or not page.values:
                return found

    async def project(self, key: str) -> dict[str, Any]:
        return (await self._json("GET", f"/project/{key}")).json()

    async def fields(self) -> list[dict[str, Any]]:
        return (await self._json("GET", "/field")).json()

    async def statuses(self, project: str) -> dict[str, list[Status]]:
        """Issue type name → the statuses its workflow uses."""
        answer = await self._json("GET", f"/project/{project}/statuses")
        return {t["name"]: msgspec.convert(t["statuses"], list[Status]) for t in answer.json()}

    # -- issues -----------------------------------------------------------------------------
    async def create_issue(self, fields: dict[str, Any],
                           properties: dict[str, Any] | None = None) -> CreatedIssue:
        """Create an issue; ``properties`` are entity properties set in the same call."""
        _checked_fields(fields)
        body: dict[str, Any] = {"fields": fields}
        if properties:
            body["properties"] = [{"key": k, "value": v} for k, v in properties.items()]
        return _decode(await self._json("POST", "/issue", body=body), CreatedIssue)

    async def create_issues(self, many: Sequence[dict[str, Any]]) -> BulkResult:
        created: list[CreatedIssue] = []
        failed: list[BulkFailure] = []
        for fields in many:
            _checked_fields(fields)
        for offset in range(0, len(many), BULK_LIMIT):
            chunk = [{"fields": f} for f in many[offset:offset + BULK_LIMIT]]
            # 400 means every element failed; the body still lists why, per element.
            answer = await self._json("POST", "/issue/bulk", body={"issueUpdates": chunk},
                                      safe=False, expect=(400,))
            body = answer.json()
            created.extend(msgspec.convert(body.get("issues", []), list[CreatedIssue]))
            failed.extend(BulkFailure(
                index=offset + e["failedElementNumber"],
                messages=e.get("elementErrors", {}).get("errorMessages", []),
                errors=e.get("elementErrors", {}).get("errors", {}),
            ) for e in body.get("errors", []))
        return BulkResult(created, failed)

    async def get_issue(self, key: str, fields: Sequence[str] = ("*all",),
                        expand: Sequence[str] = ()) -> Issue:
        params = {"fields": ",".join(fields)}
        if expand:
            params["expand"] = ",".join(expand)
        return _decode(await self._json("GET", f"/issue/{key}", params=params), Issue)

    async def edit_issue(self, key: str, fields: dict[str, Any] | None = None,
                         update: dict[str, Any] | None = None) -> None:
        body: dict[str, Any] = {}
        if _checked_fields(fields):
            body["fields"] = fields
        if update:
            body["update"] = update
        await self._json("PUT", f"/issue/{key}", body=body)

    async def delete_issue(self, key: str) -> None:
        await self._json("DELETE", f"/issue/{key}")

    async def search(self, jql: str, fields: Sequence[str] = ("*all",), page_size: int = 100,
                     expand: Sequence[str] = (), *, reconcile: Sequence[str] = (),
                     properties: Sequence[str] = ()) -> AsyncIterator[Issue]:
        """Every issue matching ``jql``, following ``nextPageToken`` until ``isLast``.

        Search is eventually consistent: a just-written issue may be missing or stale unless
        its id is in ``reconcile`` (at most 50). ``properties`` names entity properties to
        return (at most 5).
        """
        token: str | None = None
        while True:
            body: dict[str, Any] = {"jql": jql, "fields": list(fields), "maxResults": page_size}
            if expand:
                body["expand"] = ",".join(expand)
            if reconcile:
                body["reconcileIssues"] = [int(i) for i in reconcile]
            if properties:
                body["properties"] = list(properties)
            if token:
                body["nextPageToken"] = token
            page = _decode(await self._json("POST", "/search/jql", body=body, safe=True), _Page)
            for issue in page.issues:
                yield issue
            if page.isLast or not page.nextPageToken:
                return
            token = page.nextPageToken

    # -- transitions ------------------------------------------------------------------------
    async def transitions(self, key: str) -> list[Transition]:
        return _decode(await self._json("GET", f"/issue/{key}/transitions"),
                       _Transitions).transitions

    async def transition(self, key: str, transition_id: str) -> None:
        await self._json("POST", f"/issue/{key}/transitions",
                         body={"transition": {"id": transition_id}}, safe=False)

    async def transition_to(self, key: str, status: str) -> Transition | None:
        """Move to ``status`` (name or id) through a valid transition; None if already there."""
        issue = await self.get_issue(key, fields=("status",))
        current = issue.fields.get("status", {})
        if status in (current.get("id"), current.get("name")):
            return None
        available = await self.transitions(key)
        move = next((t for t in available
                     if status in (t.to.id, t.to.name) or status.lower() == t.to.name.lower()),
                    None)
        if move is None:
            offered = ", ".join(t.to.name for t in available) or "none"
            raise NoTransition(
                f"{key}: no workflow transition from {current.get('name')!r} to {status!r} "
                f"(available targets: {offered})", status=None, outcome=Outcome.PERMANENT,
                error_messages=[], errors={})
        await self.transition(key, move.id)
        return move

    # -- comments ---------------------------------------------------------------------------
    async def comments(self, key: str, page_size: int = 100) -> AsyncIterator[Comment]:
        start = 0
        while True:
            page = _decode(await self._json(
                "GET", f"/issue/{key}/comment",
                params={"startAt": str(start), "maxResults": str(page_size),
                        "orderBy": "created"}), _Comments)
            for comment in page.comments:
                yield comment
            start += len(page.comments)
            if not page.comments or start >= page.total:
                return

    async def add_comment(self, key: str, body: dict[str, Any] | str) -> Comment:
        document = adf.to_adf(body) if isinstance(body, str) else _checked_document(body, "body")
        return _decode(await self._json("POST", f"/issue/{key}/comment",
                                        body={"body": document}), Comment)

    async def edit_comment(self, key: str, comment_id: str, body: dict[str, Any] | str) -> Comment:
        document = adf.to_adf(body) if isinstance(body, str) else _checked_document(body, "body")
        return _decode(await self._json("PUT", f"/issue/{key}/comment/{comment_id}",
                                        body={"body": document}), Comment)

    async def delete_comment(self, key: str, comment_id: str) -> None:
        await self._json("DELETE", f"/issue/{key}/comment/{comment_id}")

    # -- attachments ------------------------------------------------------------------------
    async def attachment(self, attachment_id: str) -> Attachment:
        return _decode(await self._json("GET", f"/attachment/{attachment_id}"), Attachment)

    async def upload_attachment(self, key: str, filename: str,
                                open_stream: Callable[[], Any], *, size: int,
                                cap: int = DEFAULT_ATTACHMENT_CAP,
                                content_type: str = "application/octet-stream") -> Attachment:
        """Stream one file; ``open_stream()`` gives a fresh readable per attempt."""
        if size > cap:
            raise _too_large(filename, size, cap)

        def form() -> aiohttp.FormData:
            data = aiohttp.FormData()
            data.add_field("file", open_stream(), filename=filename, content_type=content_type)
            return data

        answer = await self.transport.request(
            "POST", f"{self.api}/issue/{key}/attachments", safe=True, data=form,
            headers={"X-Atlassian-Token": "no-check", "Accept": "application/json"})
        return msgspec.convert(answer.json()[0], Attachment)

    async def download_attachment(self, attachment_id: str, *,
                                  cap: int = DEFAULT_ATTACHMENT_CAP,
                                  chunk_size: int = 64 * 1024) -> AsyncIterator[bytes]:
        """Stream a file's bytes; refuses before transferring anything when over ``cap``."""
        meta = await self.attachment(attachment_id)
        if meta.size > cap:
            raise _too_large(meta.filename, meta.size, cap)
        async with self.transport.stream(
                "GET", f"{self.api}/attachment/content/{attachment_id}") as response:
            async for chunk in response.content.iter_chunked(chunk_size):
                yield chunk

    async def delete_attachment(self, attachment_id: str) -> None:
        await self._json("DELETE", f"/attachment/{attachment_id}")

    # -- remote links -----------------------------------------------------------------------
    async def upsert_remote_link(self, key: str, *, global_id: str, url: str, title: str,
                                 summary: str = "", icon_url: str = "",
                                 relationship: str = "") -> int:
        target: dict[str, Any] = {"url": url, "title": title}
        if summary:
            target["summary"] = summary
        if icon_url:
            target["icon"] = {"url16x16": icon_url, "title": title}
        body: dict[str, Any] = {"globalId": global_id, "object": target}
        if relationship:
            body["relationship"] = relationship
        answer = await self._json("POST", f"/issue/{key}/remotelink", body=body, safe=True)
        return _decode(answer, RemoteLinkRef).id

    async def remote_links(self, key: str) -> list[RemoteLink]:
        return _decode(await self._json("GET", f"/issue/{key}/remotelink"), list[RemoteLink])

    async def delete_remote_link(self, key: str, global_id: str) -> None:
        await self._json("DELETE", f"/issue/{key}/remotelink", params={"globalId": global_id})

    # -- entity properties ------------------------------------------------------------------
    async def set_property(self, key: str, name: str, value: Any) -> None:
        await self._json("PUT", f"/issue/{key}/properties/{name}", body=value)

    async def get_property(self, key: str, name: str) -> Any:
        try:
            return (await self._json("GET", f"/issue/{key}/properties/{name}")).json()["value"]
        except JiraError as exc:
            if exc.status == 404:
                return None
            raise

    async def delete_property(self, key: str, name: str) -> None:
        await self._json("DELETE", f"/issue/{key}/properties/{name}")

    # -- webhooks (admin registration; works with basic auth) -------------------------------
    async def webhooks(self) -> list[Webhook]:
        answer = await self._json("GET", WEBHOOK_PATH, base=self.site_url)
        return [h.view() for h in _decode(answer, list[_HookBody])]

    async def register_webhook(self, *, name: str, url: str, events: Sequence[str], jql: str,
                               secret: str) -> Webhook:
        answer = await self._json("POST", WEBHOOK_PATH, base=self.site_url,
                                  body=_hook_body(name, url, events, jql, secret))
        return _decode(answer, _HookBody).view()

    async def update_webhook(self, webhook_id: int, *, name: str, url: str,
                             events: Sequence[str], jql: str, secret: str) -> Webhook:
        answer = await self._json("PUT", f"{WEBHOOK_PATH}/{webhook_id}", base=self.site_url,
                                  body=_hook_body(name, url, events, jql, secret))
        return _decode(answer, _HookBody).view()

    async def delete_webhook(self, webhook_id: int) -> None:
        await self._json("DELETE", f"{WEBHOOK_PATH}/{webhook_id}", base=self.site_url)


    # -- dynamic webhooks (OAuth 2.0 / Connect apps; expire after 30 days) -------------------
    async def register_dynamic_webhooks(self, url: str,
                                        hooks: Sequence[tuple[Sequence[str], str]]
                                        ) -> list[int | str]:
        """Register ``(events, jql)`` pairs for ``url``: a created id or Jira's error, per
        pair, in order."""
        body = {"url": url, "webhooks": [{"events": list(events), "jqlFilter": jql}
                                         for events, jql in hooks]}
        results = (await self._json("POST", "/webhook", body=body, safe=False)).json()
        return [r["createdWebhookId"] if "createdWebhookId" in r else "; ".join(r["errors"])
                for r in results["webhookRegistrationResult"]]

    async def dynamic_webhooks(self) -> list[dict[str, Any]]:
        return (await self._json("GET", "/webhook")).json()["values"]

    async def refresh_dynamic_webhooks(self, ids: Sequence[int]) -> int:
        """Extend their life by 30 days; returns the new expiry (epoch milliseconds)."""
        answer = await self._json("PUT", "/webhook/refresh", body={"webhookIds": list(ids)})
        return int(answer.json()["expirationDate"])

    async def delete_dynamic_webhooks(self, ids: Sequence[int]) -> None:
        await self._json("DELETE", "/webhook", body={"webhookIds": list(ids)})


def _hook_body(name: str, url: str, events: Sequence[str], jql: str,
               secret: str) -> dict[str, Any]:
    return {"name": name, "url": url, "events": list(events),
            "filters": {"issue-related-events-section": jql}, "excludeBody": False,
            "enabled": True, "secret": secret}


def _too_large(filename: str, size: int, cap: int) -> AttachmentTooLarge:
    return AttachmentTooLarge(f"{filename}: {size} bytes exceeds the {cap}-byte limit",
                              status=None, outcome=Outcome.PERMANENT, error_messages=[],
                              errors={})


async def ensure_webhook(client: JiraClient, *, name: str, url: str, events: Sequence[str],
                         jql: str, secret: str) -> int:
    """Create or update (never duplicate) the daemon's webhook; returns its id.

    The secret cannot be read back, so an existing hook is always updated to carry it.
    """
    existing = [h for h in await client.webhooks() if h.name == name or h.url == url]
    if not existing:
        return (await client.register_webhook(name=name, url=url, events=events, jql=jql,
                                              secret=secret)).id
    keep, *extra = existing
    for duplicate in extra:
        await client.delete_webhook(duplicate.id)
    await client.update_webhook(keep.id, name=name, url=url, events=events, jql=jql,
                                secret=secret)
    return keep.id
