"""Notes, both ways v8 offers them: ``/{module}/{id}/Notes`` and the top-level ``/Notes``
(each note names its parent in ``Parent_Id``, which is what the official SDK sends).
Lists need ``fields`` (v8); ``GET /Notes/{id}`` reads one note; every change is a
``Notes`` change event naming the parent record."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from adapters.zoho.simulator.crm.data import MODULES, module_id
from adapters.zoho.simulator.crm.query import parse_time
from adapters.zoho.simulator.crm.records import (
    API,
    AUDIT,
    data_rows,
    record_in_path,
    required_fields,
    selected,
)
from adapters.zoho.simulator.crm.replies import (
    field_failure,
    invalid_id,
    listing,
    results,
    success,
)
from adapters.zoho.simulator.crm.store import OWNER, USER, CrmStore

_Entry = tuple[dict[str, Any], str, dict[str, Any] | None]  # (row, module, parent record)


class NotesApi:
    def __init__(self, store: CrmStore) -> None:
        self.store = store

    def routes(self, router: web.UrlDispatcher) -> None:
        router.add_get(f"{API}/Notes", self.all_notes)
        router.add_post(f"{API}/Notes", self.create_notes)
        router.add_get(f"{API}/Notes/{{note}}", self.get_note)
        router.add_put(f"{API}/Notes/{{note}}", self.update_note)
        router.add_delete(f"{API}/Notes/{{note}}", self.delete_note)
        router.add_get(f"{API}/{{module}}/{{id}}/Notes", self.record_notes)
        router.add_post(f"{API}/{{module}}/{{id}}/Notes", self.add_notes)

    async def record_notes(self, request: web.Request) -> web.Response:
        _, parent = record_in_path(self.store, request)
        wanted = required_fields(request)
        return listing([selected(n, wanted) for n in self.store.notes.values()
                        if n["Parent_Id"]["id"] == parent["id"]])

    async def all_notes(self, request: web.Request) -> web.Response:
        """Every note, oldest change first; ``If-Modified-Since``: only notes changed after
        it (304 when none)."""
        wanted = required_fields(request)
        notes = sorted(self.store.notes.values(),
                       key=lambda n: (parse_time(n["Modified_Time"]), n["id"]))
        since = request.headers.get("If-Modified-Since")
        if since:
            notes = [n for n in notes if parse_time(n["Modified_Time"]) > parse_time(since)]
            if not notes:
                return web.Response(status=304)
        return listing([selected(n, wanted) for n in notes])

    async def get_note(self, request: web.Request) -> web.Response:
        note = self.store.notes.get(request.match_info["note"])
        if note is None:
            return web.Response(status=204)
        since = request.headers.get("If-Modified-Since")
        if since and parse_time(note["Modified_Time"]) <= parse_time(since):
            return web.Response(status=304)
        return web.json_response({"data": [note]})

    async def add_notes(self, request: web.Request) -> web.Response:
        module, parent = record_in_path(self.store, request)
        return self._store_notes([(row, module, parent) for row in await data_rows(request)])

    async def create_notes(self, request: web.Request) -> web.Response:
        entries: list[_Entry] = []
        for row in await data_rows(request):
            parent_ref = row.get("Parent_Id") or {}
            module_ref = parent_ref.get("module") or {}
            module = module_ref.get("api_name") if isinstance(module_ref, dict) else module_ref
            module = str(module or row.get("$se_module"))
            entries.append((row, module, self.store.find(module, str(parent_ref.get("id")))))
        return self._store_notes(entries)

    def _store_notes(self, entries: list[_Entry]) -> web.Response:
        with self.store.changes.batch():
            return results([self._store_note(index, *entry)
                            for index, entry in enumerate(entries)], 201)

    def _store_note(self, index: int, row: dict[str, Any], module: str,
                    parent: dict[str, Any] | None) -> dict[str, Any]:
        if parent is None or not row.get("Note_Content"):
            missing = "Parent_Id" if parent is None else "Note_Content"
            return field_failure("MANDATORY_NOT_FOUND", "required field not found", missing,
                                 index)
        note_id, stamp = self.store.ids.next(), self.store.stamp()
        note = self.store.notes[note_id] = {
            "id": note_id, "Note_Title": row.get("Note_Title"),
            "Note_Content": row["Note_Content"], "Created_Time": stamp,
            "Modified_Time": stamp, "Owner": OWNER, "Created_By": USER, "Modified_By": USER,
            "$se_module": module,
            "Parent_Id": {"id": parent["id"], "name": parent.get(MODULES[module][2]),
                          "module": {"api_name": module, "id": module_id(module)}}}
        self._changed(note, "insert")
        return success("record added", {k: note[k] for k in AUDIT})

    def _changed(self, note: dict[str, Any], operation: str) -> None:
        parent = note["Parent_Id"]
        self.store.child_changed("Notes", operation, note["id"],
                                 (parent["module"]["api_name"], parent["id"]))

    def _note(self, request: web.Request) -> dict[str, Any]:
        note = self.store.notes.get(request.match_info["note"])
        if note is None:
            raise invalid_id(request.match_info["note"])
        return note

    async def update_note(self, request: web.Request) -> web.Response:
        note = self._note(request)
        row = (await data_rows(request))[0]
        note.update({k: row[k] for k in ("Note_Title", "Note_Content") if k in row})
        note["Modified_Time"], note["Modified_By"] = self.store.stamp(), USER
        self._changed(note, "update")
        return results([success("record updated", {k: note[k] for k in AUDIT})])

    async def delete_note(self, request: web.Request) -> web.Response:
        note = self._note(request)
        del self.store.notes[note["id"]]
        self._changed(note, "delete")
        return results([success("record deleted", {"id": note["id"]})])
