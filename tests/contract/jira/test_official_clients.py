"""pycontribs `jira` and atlassian-python-api, unmodified, against the simulator."""

import io

import anyio
from atlassian import Jira as AtlassianJira
from atlassian.jira import JiraCloud
from jira import JIRA

from adapters.jira.simulator.state import default_workflow

from .conftest import Jira


def pycontribs_scenario(url: str, email: str, token: str) -> dict:
    client = JIRA(server=url, basic_auth=(email, token), max_retries=0)
    issue = client.create_issue(project="SUP", summary="From pycontribs",
                                issuetype={"name": "Task"}, description="Line one\nline two")
    issue.update(summary="From pycontribs, edited")
    comment = client.add_comment(issue.key, "a *plain* comment")
    client.transition_issue(issue.key, "Done")
    attachment = client.add_attachment(issue.key, io.BytesIO(b"bytes!"), filename="f.txt")
    link = client.add_remote_link(issue.key, {"url": "https://crm.zoho.com/d/1",
                                              "title": "Deal"}, globalId="zoho:1")
    found = client.search_issues("project = SUP AND summary ~ \"pycontribs\"")
    fresh = client.issue(issue.key)
    return {"key": issue.key, "summary": fresh.fields.summary,
            "status": fresh.fields.status.name, "description": fresh.fields.description,
            "comment": comment.body, "attachment": (attachment.filename, attachment.size),
            "link": link.id, "found": [i.key for i in found],
            "comments": [c.body for c in client.comments(issue.key)]}


def atlassian_scenario(url: str, email: str, token: str) -> dict:
    legacy = AtlassianJira(url=url, username=email, password=token, cloud=True)
    created = legacy.issue_create(fields={"project": {"key": "ENG"}, "summary": "From APA",
                                          "issuetype": {"name": "Bug"}})
    key = created["key"]
    legacy.issue_update(key, fields={"summary": "From APA, edited"})
    legacy.issue_add_comment(key, "apa comment")
    legacy.set_issue_status(key, "In Progress")
    legacy.add_attachment_object(key, io.BytesIO(b"apa bytes"))
    legacy.create_or_update_issue_remote_links(key, "https://crm.zoho.com/x", "Zoho record",
                                               global_id="zoho:apa")
    found = legacy.jql("project = ENG")
    projects = [p["key"] for p in legacy.projects()]  # cloud mode: paged project/search
    cloud = JiraCloud(url=url, username=email, password=token)
    v3 = cloud.get_issue(key)
    return {"key": key, "summary": legacy.get_issue(key)["fields"]["summary"],
            "status": v3["fields"]["status"]["name"], "found": len(found["issues"]),
            "attachments": len(v3["fields"]["attachment"]),
            "links": len(legacy.get_issue_remote_links(key)), "projects": projects}


async def test_pycontribs_jira(jira: Jira) -> None:
    result = await anyio.to_thread.run_sync(pycontribs_scenario, jira.url, jira.sim.ctx.email,
                                            jira.sim.ctx.api_token)
    assert result["summary"] == "From pycontribs, edited"
    assert result["status"] == "Done"
    assert result["description"] == "Line one\nline two"
    assert result["comment"] == "a *plain* comment"
    assert result["attachment"] == ("f.txt", 6)
    assert isinstance(result["link"], int)
    assert result["found"] == [result["key"]]
    assert result["comments"] == ["a *plain* comment"]


async def test_atlassian_python_api(jira: Jira) -> None:
    for n in range(60):  # more than one default page (50): the client follows nextPage
        jira.sim.state.add_project(f"P{n:02d}", f"Project {n}", default_workflow())
    result = await anyio.to_thread.run_sync(atlassian_scenario, jira.url, jira.sim.ctx.email,
                                            jira.sim.ctx.api_token)
    assert result["summary"] == "From APA, edited"
    assert result["status"] == "In Progress"
    assert result["found"] == 2  # the seeded ENG story and this bug
    assert result["attachments"] == 1
    assert result["links"] == 1
    assert result["projects"] == ["ENG", *(f"P{n:02d}" for n in range(60)), "SUP"]


async def test_v2_and_v3_share_state(jira: Jira) -> None:
    v2 = await anyio.to_thread.run_sync(
        lambda: JIRA(server=jira.url, basic_auth=(jira.sim.ctx.email, jira.sim.ctx.api_token),
                     max_retries=0).issue("SUP-1").fields.description)
    v3 = (await jira.client.get_issue("SUP-1")).fields["description"]
    assert v2 == "Export fails for **PDF** files."
    assert v3["type"] == "doc"
    assert v3["content"][0]["content"][1] == {"type": "text", "text": "PDF",
                                              "marks": [{"type": "strong"}]}
