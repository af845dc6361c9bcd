"""The simulator's payloads keep the shapes recorded in the fact sheet (fixtures/)."""

import io
import json
import re
from pathlib import Path
from typing import Any

from .conftest import AUTH, SimFactory, Zp

FIXTURES = Path(__file__).parent / "fixtures"
ISO_TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
ISO_DATE = re.compile(r"^\d{4}-\d\d-\d\d$")


def golden(name: str) -> Any:
    return json.loads((FIXTURES / f"{name}.json").read_text())


def assert_shape(expected: Any, actual: Any, where: str = "$") -> None:
    """Every key of ``expected`` is in ``actual`` with the same JSON type, recursively."""
    if isinstance(expected, dict):
        assert isinstance(actual, dict), f"{where}: expected an object, got {actual!r}"
        for key, value in expected.items():
            assert key in actual, f"{where}: missing key {key!r}"
            assert_shape(value, actual[key], f"{where}.{key}")
    elif isinstance(expected, list):
        assert isinstance(actual, list), f"{where}: expected an array, got {actual!r}"
        assert actual or not expected, f"{where}: expected items"
        for index, item in enumerate(actual if expected else []):
            assert_shape(expected[0], item, f"{where}[{index}]")
    elif expected is not None:
        assert type(actual) is type(expected), f"{where}: {actual!r} is not {type(expected)}"


async def _get(zp: Zp, url: str, token_headers: dict[str, str] = AUTH) -> tuple[int, Any]:
    async with zp.session.get(url, headers=token_headers) as resp:
        return resp.status, await resp.json()


async def test_task_list_and_formats(zp: Zp) -> None:
    project_id = zp.project("Website Relaunch").project_id
    status, body = await _get(zp, zp.v3(f"/projects/{project_id}/tasks"))
    assert status == 200
    assert_shape(golden("task_list"), body)
    task = body["tasks"][0]
    assert len(task["id"]) == 19 and task["id"].isdigit()
    assert ISO_TIME.match(task["created_time"]) and ISO_TIME.match(task["last_modified_time"])
    assert ISO_DATE.match(task["start_date"])


async def test_portals_project_and_milestones(zp: Zp) -> None:
    status, portals = await _get(zp, f"{zp.url}/api/v3/portals")
    assert status == 200
    assert_shape(golden("portals"), portals)
    project_id = zp.project("Website Relaunch").project_id
    assert_shape(golden("project"), (await _get(zp, zp.v3(f"/projects/{project_id}")))[1])
    milestones = (await _get(zp, zp.v3(f"/projects/{project_id}/milestones")))[1]
    assert_shape(golden("milestones"), milestones)
    assert_shape(golden("timelogs"), (await _get(zp, zp.v3(f"/projects/{project_id}/timelogs")))[1])


async def test_error_envelopes(start_zp: SimFactory) -> None:
    zp = await start_zp(throttle_limit=1)
    ref = zp.ref("tasks", "Design landing page")
    url = zp.v3(f"/projects/{ref.project_id}/tasks/{ref.id}")
    async with zp.session.patch(url, headers=AUTH, json={"cf_billing_type": "Maybe"}) as resp:
        assert resp.status == 400
        assert_shape(golden("error_envelope"), await resp.json())
    status, body = await _get(zp, url, {"Authorization": "Zoho-oauthtoken nope"})
    assert status == 401
    assert_shape(golden("invalid_token"), body)
    status, body = await _get(zp, url)
    assert status == 400
    assert_shape(golden("throttle_error"), body)


async def test_attachment_list_and_workdrive_upload(zp: Zp) -> None:
    ref = zp.ref("issues", "Typo in footer")
    form = {"parent_id": "wdfolder1", "content": io.BytesIO(b"%PDF-1.7")}
    async with zp.session.post(f"{zp.url}/api/v1/upload", headers=AUTH, data=form) as resp:
        uploaded = await resp.json()
    assert_shape(golden("workdrive_upload"), uploaded)
    path = f"/projects/{ref.project_id}/issues/{ref.id}/attachments"
    async with zp.session.post(zp.v3(path), headers=AUTH,
                               json={"attachment_ids": [uploaded["data"][0]["id"]]}) as resp:
        assert resp.status == 200
    status, listed = await _get(zp, zp.v3(path))
    assert status == 200
    assert_shape(golden("attachments"), listed)
