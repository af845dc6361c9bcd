"""Schemathesis against the OpenAPI document the daemon serves: every operation, generated
inputs, checked for server errors and for answers that break the documented schemas."""

import json
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance

from bridge.admin.tokens import create_token
from bridge.ui.openapi import document
from tests.api.harness import LiveServer

MAX_EXAMPLES = 10

schema = schemathesis.openapi.from_dict(document())
# A real SCI id and issue key, so the SCI and panel operations do their work instead of
# answering 404 to random names (unknown ones have their own tests); the rest is generated.
schema.config.update(parameters={"path.sci_id": "support-cases", "path.issue_key": "SUP-1"})


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with LiveServer(Path(tmp_path_factory.mktemp("fuzz"))) as server:
        yield server


@pytest.fixture(scope="module")
def auth(live: LiveServer) -> dict[str, str]:
    assert live.runtime is not None
    _, token = live.call(create_token, live.runtime.store, "admin", "fuzz")
    return {"Authorization": f"Bearer {token}"}


def test_the_served_document_is_the_one_fuzzed(live: LiveServer, auth: dict[str, str]) -> None:
    request = urllib.request.Request(f"{live.url}/api/v1/openapi.json", headers=auth)
    with urllib.request.urlopen(request) as response:
        assert json.load(response) == document()


@schema.parametrize()
@settings(max_examples=MAX_EXAMPLES, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                 HealthCheck.filter_too_much])
def test_api_matches_its_openapi_document(case: schemathesis.Case, live: LiveServer,
                                          auth: dict[str, str]) -> None:
    # An SCI definition and a Zoho connect request have rules across their keys (a Projects
    # source needs a portal, App OAuth 2.0 needs a code …) that JSON Schema cannot state:
    # a schema-valid body may still be refused with 400 and the key at fault.
    path = case.operation.path
    cross_field = case.operation.method.upper() in ("POST", "PUT") and (
        path in ("/api/v1/scis", "/api/v1/scis/{sci_id}") or path.endswith("/connect"))
    case.call_and_validate(base_url=live.url, headers=auth,
                           excluded_checks=[positive_data_acceptance] if cross_field else [])
