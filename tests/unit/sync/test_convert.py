"""Value conversion per kind, both ways; failures are ConversionErrors with a reason."""

from datetime import datetime
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bridge.sync import convert
from bridge.sync.convert import Context, ConversionError

CTX = Context(jira_zone="America/Los_Angeles", zoho_zone="-07:00",
              users={"acc-1": "ada@example.com"})


@pytest.mark.parametrize(("kind", "jira", "zoho", "canonical"), [
    ("text", "Hello", "Hello", "Hello"),
    ("number", 12.5, "12.50", "12.5"),
    ("number", 3, 3.0, "3"),
    ("date", "2026-11-23", "2026-11-23", "2026-11-23"),
    ("datetime", "2026-11-23T07:41:17.687-0800", "2026-11-23T08:41:17-07:00",
     "2026-11-23T15:41:17Z"),
    ("boolean", {"value": "Yes"}, True, True),
    ("picklist", {"value": "High", "id": "1"}, "High", "High"),
    ("multiselect", [{"value": "b"}, {"value": "a"}], ["a", "b"], ["a", "b"]),
    ("user", {"accountId": "acc-1", "emailAddress": None},
     {"id": "9", "email": "Ada@Example.com"}, "ada@example.com"),
    ("rich_text", {"type": "doc", "version": 1, "content": [
        {"type": "paragraph", "content": [{"type": "text", "text": "line"}]}]},
     "<p>line</p>", "line"),
])
def test_both_sides_read_to_one_canonical_value(kind: Any, jira: Any, zoho: Any,
                                                canonical: Any) -> None:
    assert convert.from_jira(kind, jira, CTX) == canonical
    assert convert.from_zoho(kind, zoho, CTX) == canonical


@pytest.mark.parametrize(("kind", "canonical", "field", "jira", "zoho"), [
    ("number", "12.5", "customfield_1", 12.5, 12.5),
    ("number", "3", "customfield_1", 3.0, 3),
    ("datetime", "2026-11-23T15:41:17Z", "customfield_2", "2026-11-23T07:41:17.000-0800",
     "2026-11-23T08:41:17-07:00"),
    ("picklist", "High", "priority", {"name": "High"}, "High"),
    ("picklist", "High", "customfield_3", {"value": "High"}, "High"),
    ("multiselect", ["a", "b"], "labels", ["a", "b"], ["a", "b"]),
    ("user", "ada@example.com", "assignee", {"accountId": "acc-1"}, None),
])
def test_canonical_values_are_written_in_each_sides_shape(kind: Any, canonical: Any,
                                                          field: str, jira: Any,
                                                          zoho: Any) -> None:
    assert convert.to_jira(kind, canonical, CTX, field=field) == jira
    if zoho is not None:
        assert convert.to_zoho(kind, canonical, CTX) == zoho


@pytest.mark.parametrize(("kind", "raw", "message"), [
    ("number", "twelve", "is not a number"),
    ("number", "NaN", "not a finite number"),
    ("date", "23/11/2026", "is not a date"),
    ("datetime", "yesterday", "is not a date and time"),
    ("boolean", "maybe", "is not a yes/no value"),
])
def test_unconvertible_values_raise_with_a_reason(kind: Any, raw: Any, message: str) -> None:
    with pytest.raises(ConversionError, match=message):
        convert.from_zoho(kind, raw, CTX)


def test_hidden_email_without_user_map_is_reported() -> None:
    with pytest.raises(ConversionError, match="hides their e-mail"):
        convert.from_jira("user", {"accountId": "other", "displayName": "Bob"}, CTX)
    with pytest.raises(ConversionError, match="no Jira account is known"):
        convert.to_jira("user", "bob@example.com", CTX)


def test_zoho_users_and_lookups_cannot_be_set_by_name() -> None:
    for kind in ("user", "lookup"):
        with pytest.raises(ConversionError):
            convert.to_zoho(kind, "x", CTX)


def test_summary_is_one_line_and_truncated_visibly() -> None:
    long = "word " * 80
    written = convert.to_jira("text", long, CTX, field="summary")
    assert len(written) == convert.SUMMARY_LIMIT and written.endswith("…")
    assert "truncated from 399 to 255" in convert.summary_problem(long)
    assert convert.to_jira("text", "a\nb", CTX, field="summary") == "a b"


def test_empty_values_are_none_on_both_sides() -> None:
    for kind in convert.FIELD_KINDS:
        assert convert.from_jira(kind, None, CTX) is None
        assert convert.from_zoho(kind, "", CTX) is None


@given(st.decimals(allow_nan=False, allow_infinity=False, places=4,
                   min_value=-10**9, max_value=10**9))
def test_numbers_round_trip_through_both_sides(value: Any) -> None:
    canonical = convert.number(value)
    assert convert.from_jira("number", convert.to_jira("number", canonical, CTX), CTX) \
        == canonical
    assert convert.from_zoho("number", convert.to_zoho("number", canonical, CTX), CTX) \
        == canonical


@given(st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2090, 1, 1)))
def test_datetimes_round_trip_through_both_zones(moment: Any) -> None:
    canonical = moment.replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")
    for side in ("jira", "zoho"):
        wire = (convert.to_jira("datetime", canonical, CTX) if side == "jira"
                else convert.to_zoho("datetime", canonical, CTX))
        back = (convert.from_jira if side == "jira" else convert.from_zoho)("datetime", wire,
                                                                            CTX)
        assert back == canonical


@given(st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc")), max_size=60))
def test_text_never_raises(text: str) -> None:
    convert.from_jira("text", text, CTX)
    convert.from_zoho("rich_text", text, CTX)
