import re

from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.jira.adf import from_html, problems, to_adf, to_html, to_text

LIST_MARKER = re.compile(r"^(\d+\. |[-*] )")
WORD = st.text(alphabet="abcdefghijklmnopqrstuvwxyzABC0123456789.,!?", min_size=1, max_size=8)


@st.composite
def inline(draw: st.DrawFn) -> str:
    word = draw(WORD)
    return draw(st.sampled_from([word, f"**{word}**", f"*{word}*", f"`{word}`",
                                 f"[{word}](https://example.com/{word})"]))


LINE = st.lists(inline(), min_size=1, max_size=5).map(" ".join)
# A paragraph line that starts like a list item ("0. x", "- x") is list markup, not text.
TEXT_LINE = LINE.filter(lambda line: not LIST_MARKER.match(line))
PARAGRAPH = st.lists(TEXT_LINE, min_size=1, max_size=3).map("\n".join)
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


@given(st.text(max_size=200))
def test_anything_we_convert_is_adf_jira_accepts(text: str) -> None:
    assert problems(to_adf(text)) == []


def test_problems_name_what_jira_would_refuse() -> None:
    assert problems("plain") == ["the top-level node must be of type 'doc'"]
    found = problems({"type": "doc", "content": [
        {"type": "paragraph", "content": [{"type": "text", "text": ""},
                                          {"type": "text", "text": "x",
                                           "marks": [{"type": "sparkle"}]}]},
        {"type": "marquee"}, "not a node"]})
    assert found == ['the document needs "version": 1',
                     "doc.content[0].content[0]: text nodes need non-empty text",
                     "doc.content[0].content[1]: unknown mark {'type': 'sparkle'}",
                     "doc.content[1]: unknown node type 'marquee'",
                     "doc.content[2]: a node must be an object"]


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


HTML_WORD = st.text(alphabet="abcXYZ019.,!?<>&\"'#;/= ", min_size=1, max_size=8).filter(
    lambda w: w.strip() == w)


@st.composite
def html_inline(draw: st.DrawFn) -> str:
    word = draw(HTML_WORD)
    return draw(st.sampled_from([word, f"**{word}**", f"*{word}*", f"`{word}`",
                                 f"[{word}](https://example.com/a?b=1&c=2)"]))


HTML_LINE = st.lists(html_inline(), min_size=1, max_size=5).map(" ".join)
HTML_DOCUMENT = st.lists(st.one_of(
    st.lists(HTML_LINE.filter(lambda line: not LIST_MARKER.match(line)), min_size=1,
             max_size=3).map("\n".join),
    st.lists(HTML_LINE, min_size=1, max_size=4).map(lambda ls: "\n".join(f"- {i}" for i in ls)),
    st.lists(HTML_LINE, min_size=1, max_size=4).map(
        lambda ls: "\n".join(f"{n}. {i}" for n, i in enumerate(ls, start=1))),
    CODE), min_size=1, max_size=5).map("\n\n".join)


@settings(deadline=None)  # a property, not a timing: a loaded machine must not fail it
@given(HTML_DOCUMENT)
def test_adf_round_trips_through_html(text: str) -> None:
    """Paragraphs, line breaks, lists, code, bold/italic/code marks and links survive
    Jira → Zoho Projects HTML → Jira, HTML-special characters included."""
    document = to_adf(text)
    assert from_html(to_html(document)) == document
    assert to_text(from_html(to_html(document))) == text


def test_html_from_zoho_reads_as_markup() -> None:
    html = ("<div>Hello <b>there</b>,<br/>see <a href='https://x.test/?a=1&amp;b=2'>this</a>"
            "</div>\n<ul>\n<li>one</li>\n<li><i>two</i></li>\n</ul>"
            "<pre><code class=\"language-py\">x = 1 &lt; 2</code></pre>")
    assert to_text(from_html(html)) == ("Hello **there**,\nsee [this](https://x.test/?a=1&b=2)"
                                        "\n\n- one\n- *two*\n\n```py\nx = 1 < 2\n```")
    assert problems(from_html(html)) == []
