"""Tasks and issues (``/bugs`` is accepted as an alias of ``/issues``), their comments,
followers and associated records."""

from __future__ import annotations

from aiohttp import web

from .common import author, json_body, listing, plain_list, state_of, text_field
from .store import ProjectsState, Record

PROJECT = "/projects/{project}"
ITEM = PROJECT + "/{module:tasks|issues|bugs}/{item}"


def _module(request: web.Request) -> str:
    module = request.match_info["module"]
    return "issues" if module == "bugs" else module


def item_of(request: web.Request) -> tuple[ProjectsState, Record]:
    state = state_of(request)
    info = request.match_info
    return state, state.record(_module(request), info["project"], info["item"])


async def list_records(request: web.Request) -> web.Response:
    state = state_of(request)
    records = state.in_project(_module(request), request.match_info["project"])
    return listing(request.match_info["module"], records, request.query)


async def list_portal_records(request: web.Request) -> web.Response:
    module = _module(request)
    return listing(request.match_info["module"], list(state_of(request).records[module].values()),
                   request.query)


async def create_record(request: web.Request) -> web.Response:
    body = await json_body(request)
    record = state_of(request).create(_module(request), request.match_info["project"], body,
                                      author(request))
    return web.json_response(record, status=201)


async def get_record(request: web.Request) -> web.Response:
    return web.json_response(item_of(request)[1])


async def update_record(request: web.Request) -> web.Response:
    state, record = item_of(request)
    state.apply(_module(request), record, await json_body(request))
    record["updated_by"] = author(request)
    return web.json_response(record)


async def delete_record(request: web.Request) -> web.Response:
    info = request.match_info
    state_of(request).delete(_module(request), info["project"], info["item"])
    return web.Response(status=204)


async def list_comments(request: web.Request) -> web.Response:
    state, record = item_of(request)
    return listing("comments", state.comments.get(record["id"], []), request.query)


async def add_comment(request: web.Request) -> web.Response:
    state, record = item_of(request)
    html = text_field(await json_body(request), "comment")
    return web.json_response(state.add_comment(record, html, author(request)), status=201)


async def update_comment(request: web.Request) -> web.Response:
    state, record = item_of(request)
    comment = state.comment(record, request.match_info["comment"])
    comment["comment"] = text_field(await json_body(request), "comment")
    comment["last_modified_time"] = state.stamp()
    state.comment_changed(record)
    return web.json_response(comment)


async def delete_comment(request: web.Request) -> web.Response:
    state, record = item_of(request)
    state.comments[record["id"]].remove(state.comment(record, request.match_info["comment"]))
    state.comment_changed(record)
    return web.Response(status=204)


async def followers(request: web.Request) -> web.Response:
    state, record = item_of(request)
    return plain_list("followers", state.followers.get(record["id"], []))


async def associated_bugs(request: web.Request) -> web.Response:
    state, task = item_of(request)
    bugs = [state.records["issues"][i] for i in sorted(state.associated.get(task["id"], ()))
            if i in state.records["issues"]]
    return plain_list("associated_bugs", bugs)


async def associated_tasks(request: web.Request) -> web.Response:
    state, issue = item_of(request)
    tasks = [state.records["tasks"][t] for t, bugs in sorted(state.associated.items())
             if issue["id"] in bugs and t in state.records["tasks"]]
    return plain_list("associated_tasks", tasks)


def add_routes(router: web.UrlDispatcher, root: str) -> None:
    records = root + PROJECT + "/{module:tasks|issues|bugs}"
    router.add_get(root + "/{module:tasks|issues}", list_portal_records)
    router.add_get(records, list_records)
    router.add_post(records, create_record)
    router.add_get(root + ITEM, get_record)
    router.add_patch(root + ITEM, update_record)
    router.add_delete(root + ITEM, delete_record)
    router.add_get(root + ITEM + "/comments", list_comments)
    router.add_post(root + ITEM + "/comments", add_comment)
    router.add_patch(root + ITEM + "/comments/{comment}", update_comment)
    router.add_delete(root + ITEM + "/comments/{comment}", delete_comment)
    router.add_get(root + ITEM + "/followers", followers)
    router.add_get(root + PROJECT + "/{module:tasks}/{item}/associated-bugs", associated_bugs)
    router.add_get(root + PROJECT + "/{module:issues|bugs}/{item}/associated-tasks",
                   associated_tasks)
