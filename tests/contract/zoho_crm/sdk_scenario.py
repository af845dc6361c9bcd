"""Run by test_official_sdk.py in a fresh process: the official Zoho CRM SDK (zohocrmsdk8-0)
against the simulators. Prints one JSON line with what the SDK saw."""

import json
import sys
import tempfile

from zohocrmsdk.src.com.zoho.api.authenticator.oauth_token import OAuthToken
from zohocrmsdk.src.com.zoho.api.authenticator.store.file_store import FileStore
from zohocrmsdk.src.com.zoho.api.logger import Logger
from zohocrmsdk.src.com.zoho.crm.api import ParameterMap
from zohocrmsdk.src.com.zoho.crm.api.dc.data_center import DataCenter
from zohocrmsdk.src.com.zoho.crm.api.initializer import Initializer
from zohocrmsdk.src.com.zoho.crm.api.modules import MinifiedModule
from zohocrmsdk.src.com.zoho.crm.api.notes import BodyWrapper as NotesBody
from zohocrmsdk.src.com.zoho.crm.api.notes import GetNotesParam, Note, NotesOperations, ParentId
from zohocrmsdk.src.com.zoho.crm.api.notes import ResponseWrapper as NotesPage
from zohocrmsdk.src.com.zoho.crm.api.record import (
    BodyWrapper,
    GetRecordsParam,
    Record,
    RecordOperations,
    ResponseWrapper,
    SuccessResponse,
)
from zohocrmsdk.src.com.zoho.crm.api.sdk_config import SDKConfig
from zohocrmsdk.src.com.zoho.crm.api.util import Choice


def main(api: str, accounts: str, client_id: str, secret: str, refresh: str) -> dict:
    work = tempfile.mkdtemp()
    Initializer.initialize(
        environment=DataCenter.Environment(api, accounts + "/oauth/v2/token", api),
        token=OAuthToken(client_id=client_id, client_secret=secret, refresh_token=refresh),
        store=FileStore(work + "/tokens.csv"),
        sdk_config=SDKConfig(auto_refresh_fields=False, pick_list_validation=False),
        resource_path=work, logger=Logger.get_instance(Logger.Levels.INFO, work + "/sdk.log"))
    out: dict = {}
    params = ParameterMap()
    params.add(GetRecordsParam.fields, "Deal_Name,Stage,Amount")
    listed = RecordOperations("Deals").get_records(params)
    out["get_status"] = listed.get_status_code()
    assert isinstance(listed.get_object(), ResponseWrapper)
    out["deals"] = sorted(r.get_key_value("Deal_Name") for r in listed.get_object().get_data())

    record = Record()
    record.add_key_value("Deal_Name", "Created by the SDK")
    record.add_key_value("Stage", Choice("Qualification"))
    record.add_key_value("Amount", 42.0)
    body = BodyWrapper()
    body.set_data([record])
    created = RecordOperations("Deals").create_records(body)
    out["create_status"] = created.get_status_code()
    (result,) = created.get_object().get_data()
    assert isinstance(result, SuccessResponse), result
    deal_id = str(result.get_details()["id"])
    out["created_id"] = deal_id

    parent = ParentId()
    parent.set_id(int(deal_id))
    module = MinifiedModule()
    module.set_api_name("Deals")
    parent.set_module(module)
    note = Note()
    note.set_note_title("Jira link")
    note.set_note_content("Linked to SUP-1")
    note.set_parent_id(parent)
    notes_body = NotesBody()
    notes_body.set_data([note])
    note_answer = NotesOperations().create_notes(notes_body)
    out["note_status"] = note_answer.get_status_code()
    note_params = ParameterMap()
    note_params.add(GetNotesParam.fields, "Note_Title,Note_Content")
    page = NotesOperations().get_notes(note_params)
    assert isinstance(page.get_object(), NotesPage)
    out["notes"] = [n.get_note_content() for n in page.get_object().get_data()]
    return out


if __name__ == "__main__":
    print(json.dumps(main(*sys.argv[1:6])))
