"""The engine's manual operations as the issue panel uses them: the Jira issue gets a
remote link to its panel page next to the record's, and search finds records by name or id."""

import msgspec

from bridge.engine.engine import PANEL_LINK_TITLE
from bridge.store import SciRecord
from tests.engine.conftest import World, sci
from tests.engine.test_engine_crm import linked_pair, new_case

PANEL = "https://bridge.example.com/panel"


async def test_a_manual_link_puts_a_panel_remote_link_on_the_issue(world: World) -> None:
    engine = world.build(panel_url=PANEL + "/")
    assert await engine.start()
    record, key, _ = await linked_pair(world, engine)
    remote = {r.object["title"]: r.object["url"] for r in await world.jira.remote_links(key)}
    assert remote[PANEL_LINK_TITLE] == f"{PANEL}/{key}"
    assert remote["Zoho: Printer on fire"] == engine.sides[1].record_url(record)


async def test_two_scis_linking_one_issue_share_one_panel_remote_link(world: World) -> None:
    first = world.build(panel_url=PANEL)
    other = sci(id="cases-too", name="More cases")
    await world.store.put_sci(SciRecord(id=other.id, name=other.name, kind="crm",
                                        definition=msgspec.json.encode(other)))
    second = world.build(other, panel_url=PANEL)
    assert await first.start() and await second.start()
    _, key, _ = await linked_pair(world, first)
    await second.link_manually(key, await new_case(world, Subject="Second case"))
    titles = [r.object["title"] for r in await world.jira.remote_links(key)]
    assert titles.count(PANEL_LINK_TITLE) == 1 and len(titles) == 3


async def test_without_a_public_url_no_panel_link_is_written(world: World) -> None:
    engine = world.build()
    assert await engine.start()
    _, key, _ = await linked_pair(world, engine)
    titles = [r.object["title"] for r in await world.jira.remote_links(key)]
    assert titles == ["Zoho: Printer on fire"]


async def test_crm_search_finds_by_word_and_puts_an_exact_id_first(world: World) -> None:
    engine = world.build()
    assert await engine.start()
    printer = await new_case(world)
    other = await new_case(world, Subject="Scanner jams")
    _, zoho = engine.sides
    assert [r.id for r in await zoho.search("printer", limit=10)] == [printer]
    by_id = await zoho.search(other, limit=10)
    assert by_id[0].id == other and by_id[0].title == "Scanner jams"
    assert await zoho.search("nothing like it", limit=10) == []
