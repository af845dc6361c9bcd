"""``bridge_connection_up`` mirrors the readiness probe of each configured connection."""

from prometheus_client import REGISTRY

from bridge.http.metrics import register_connection_metrics


def up(name: str) -> float | None:
    return REGISTRY.get_sample_value("bridge_connection_up", {"connection": name})


def test_connection_up_follows_the_latest_probe() -> None:
    problems = {"jira": "", "zoho.crm": "Zoho CRM needs attention: invalid oauth token"}
    unregister = register_connection_metrics(lambda: problems)
    try:
        assert (up("jira"), up("zoho.crm")) == (1.0, 0.0)
        problems["zoho.crm"] = ""  # the next probe went through
        problems["jira"] = "not checked yet"
        assert (up("jira"), up("zoho.crm")) == (0.0, 1.0)
    finally:
        unregister()
    assert up("jira") is None
