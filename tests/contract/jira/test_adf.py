from hypothesis import given
from hypothesis import strategies as st

from adapters.jira.adf import to_adf, to_text

WORD = st.text(alphabet="abcdefghijklmnopqrstuvwxyzABC0123456789.,!?", min_size=1, max_size=8)


@st.composite
def inline(draw: st.DrawFn) -> str:
    word = draw(WORD)
    return draw(st.sampled_from([word, f"**{word}**", f"*{word}*", f"`{word}`",
                                 f"[{word}](https://example.com/{word})"]))


LINE = st.lists(inline(), min_size=1, max_size=5).map(" ".join)
PARAGRAPH = st.lists(LINE, min_size=1, max_size=3).map("\n".join)
BULLETS = st.lists(LINE, min_size=1, max_size=4).map(
    lambda items: "\n".join(f"- {i}" for i in items))
ORDERED = st.lists(LINE, min_size=1, max_size=4).map(
    lambda items: "\n".join(f"{n}. {i}" for n, i in enumerate(items, start=1)))
CODE = st.lists(WORD, min_size=1, max_size=3).map(lambda ls: "```\n" + "\n".join(ls) + "\n```")
DOCUMENT = st.lists(st.one_of(PARAGRAPH, BULLETS, ORDERED, CODE), min_size=1, max_size=5).map(
    "\n\n".join)


@given(DOCUMENT)
def test_markup_round_trips_through_adf(text: str) -> None:
    assert to_text(to_adf(text)) == text


@given(DOCUMENT)
def test_adf_never_holds_empty_text_nodes(text: str) -> None:
    def walk(node: dict) -> None:
        if node.get("type") == "text":
            assert node["text"]
        for child in node.get("content", []):
            walk(child)

    document = to_adf(text)
    assert document["type"] == "doc" and document["version"] == 1
    walk(document)


def test_structure_of_each_construct() -> None:
    document = to_adf("a **b**\nc\n\n- x\n- y\n\n```py\nprint(1)\n```")
    paragraph, bullets, code = document["content"]
    assert [n["type"] for n in paragraph["content"]] == ["text", "text", "hardBreak", "text"]
    assert paragraph["content"][1]["marks"] == [{"type": "strong"}]
    assert [i["type"] for i in bullets["content"]] == ["listItem", "listItem"]
    assert code == {"type": "codeBlock", "attrs": {"language": "py"},
                    "content": [{"type": "text", "text": "print(1)"}]}


def test_unknown_nodes_degrade_to_text() -> None:
    document = {"type": "doc", "version": 1, "content": [
        {"type": "panel", "content": [{"type": "paragraph", "content": [
            {"type": "mention", "attrs": {"text": "@Ann"}}, {"type": "text", "text": " hi"}]}]},
        {"type": "paragraph", "content": [{"type": "inlineCard",
                                           "attrs": {"url": "https://x.y"}}]}]}
    assert to_text(document) == "@Ann hi\n\nhttps://x.y"
    assert to_text(None) == ""
