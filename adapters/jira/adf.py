"""Atlassian Document Format ⇄ simple markup, loss-free for what the markup can express.

Also ADF ⇄ HTML (``to_html``/``from_html``) for Zoho Projects comments.

Markup: blank line between blocks; ``- item`` / ``1. item`` lists; fenced ``` code blocks;
inline ``**bold**``, ``*italic*``, `` `code` `` and ``[text](url)``; a single newline inside
a paragraph is a hard line break. Zoho holds plain text/HTML, so this is what survives a
round trip through it. Unknown ADF nodes degrade to their text content.

``problems`` checks a document the way Jira Cloud's v3 API does before storing it (the
API itself only answers ``INVALID_INPUT``): ``doc`` with ``version`` 1, known node and
mark types, ``content`` lists, and no empty text nodes.
"""

from __future__ import annotations

import html
import re
from html.parser import HTMLParser
from typing import Any

Node = dict[str, Any]

_INLINE = re.compile(
    r"\*\*(?P<strong>[^*]+)\*\*|\*(?P<em>[^*]+)\*|`(?P<code>[^`]+)`"
    r"|\[(?P<label>[^\]]+)\]\((?P<href>[^)\s]+)\)"
)
_BULLET = re.compile(r"^[-*] (.*)$")
_ORDERED = re.compile(r"^\d+\. (.*)$")


NODE_TYPES = frozenset({
    "doc", "paragraph", "text", "hardBreak", "heading", "bulletList", "orderedList",
    "listItem", "codeBlock", "blockquote", "rule", "panel", "table", "tableRow",
    "tableHeader", "tableCell", "mention", "emoji", "inlineCard", "blockCard", "embedCard",
    "mediaSingle", "mediaGroup", "media", "mediaInline", "caption", "status", "date",
    "expand", "nestedExpand", "decisionList", "decisionItem", "taskList", "taskItem",
    "extension", "bodiedExtension", "inlineExtension", "multiBodiedExtension",
    "extensionFrame", "layoutSection", "layoutColumn", "placeholder"})
MARK_TYPES = frozenset({
    "strong", "em", "code", "strike", "underline", "link", "subsup", "textColor",
    "backgroundColor", "alignment", "indentation", "breakout", "annotation", "border",
    "dataConsumer", "fragment"})


def doc(content: list[Node]) -> Node:
    return {"type": "doc", "version": 1, "content": content}


# -- markup → ADF ------------------------------------------------------------------------
def to_adf(text: str) -> Node:
    return doc([block for chunk in _blocks(text) for block in [_block(chunk)] if block])


def _blocks(text: str) -> list[str]:
    """Split on blank lines, keeping fenced code blocks whole."""
    blocks: list[str] = []
    current: list[str] = []
    fenced = False
    for line in text.replace("\r\n", "\n").split("\n"):
        if line.startswith("```"):
            fenced = not fenced
        if not line.strip() and not fenced:
            if current:
                blocks.append("\n".join(current))
            current = []
            continue
        current.append(line)
    if current:
        blocks.append("\n".join(current))
    return blocks


def _block(chunk: str) -> Node | None:
    lines = chunk.split("\n")
    if lines[0].startswith("```") and len(lines) >= 2 and lines[-1] == "```":
        language = lines[0][3:].strip()
        body = "\n".join(lines[1:-1])
        node: Node = {"type": "codeBlock", "content": [_text(body)] if body else []}
        if language:
            node["attrs"] = {"language": language}
        return node
    for pattern, kind in ((_BULLET, "bulletList"), (_ORDERED, "orderedList")):
        matches = [pattern.match(line) for line in lines]
        if all(matches):
            items = [{"type": "listItem", "content": [_paragraph(m.group(1))]}
                     for m in matches if m]
            return {"type": kind, "content": items}
    return _paragraph(chunk)


def _paragraph(text: str) -> Node:
    content: list[Node] = []
    for index, line in enumerate(text.split("\n")):
        if index:
            content.append({"type": "hardBreak"})
        content.extend(_inline(line))
    return {"type": "paragraph", "content": content}


def _inline(line: str) -> list[Node]:
    nodes: list[Node] = []
    position = 0
    for match in _INLINE.finditer(line):
        if match.start() > position:
            nodes.append(_text(line[position:match.start()]))
        if match.group("strong"):
            nodes.append(_text(match.group("strong"), {"type": "strong"}))
        elif match.group("em"):
            nodes.append(_text(match.group("em"), {"type": "em"}))
        elif match.group("code"):
            nodes.append(_text(match.group("code"), {"type": "code"}))
        else:
            nodes.append(_text(match.group("label"),
                               {"type": "link", "attrs": {"href": match.group("href")}}))
        position = match.end()
    if position < len(line):
        nodes.append(_text(line[position:]))
    return nodes


def _text(value: str, mark: Node | None = None) -> Node:
    node: Node = {"type": "text", "text": value}
    if mark:
        node["marks"] = [mark]
    return node


# -- validation --------------------------------------------------------------------------
def problems(document: Any) -> list[str]:
    """Why Jira would refuse ``document`` as ADF (empty list = acceptable)."""
    if not isinstance(document, dict) or document.get("type") != "doc":
        return ["the top-level node must be of type 'doc'"]
    found: list[str] = []
    if document.get("version") != 1:
        found.append("the document needs \"version\": 1")
    _check(document, "doc", found)
    return found


def _check(node: Any, where: str, found: list[str]) -> None:
    if not isinstance(node, dict):
        found.append(f"{where}: a node must be an object")
        return
    kind = node.get("type")
    if kind not in NODE_TYPES:
        found.append(f"{where}: unknown node type {kind!r}")
    if kind == "text" and not (isinstance(node.get("text"), str) and node["text"]):
        found.append(f"{where}: text nodes need non-empty text")
    for mark in node.get("marks", []):
        if not isinstance(mark, dict) or mark.get("type") not in MARK_TYPES:
            found.append(f"{where}: unknown mark {mark!r}")
    content = node.get("content", [])
    if not isinstance(content, list):
        found.append(f"{where}: content must be a list")
        return
    for index, child in enumerate(content):
        _check(child, f"{where}.content[{index}]", found)


# -- ADF → markup ------------------------------------------------------------------------
def to_text(node: Node | None) -> str:
    if not node:
        return ""
    return "\n\n".join(filter(None, (_render_block(b) for b in node.get("content", []))))


def _render_block(node: Node) -> str:
    kind = node.get("type")
    children = node.get("content", [])
    if kind == "codeBlock":
        language = node.get("attrs", {}).get("language", "")
        return f"```{language}\n{''.join(c.get('text', '') for c in children)}\n```"
    if kind in ("bulletList", "orderedList"):
        return "\n".join(
            (f"{n}. " if kind == "orderedList" else "- ") + _render_item(item)
            for n, item in enumerate(children, start=1)
        )
    if kind in ("paragraph", "heading"):
        return "".join(_render_inline(c) for c in children)
    return "\n\n".join(filter(None, (_render_block(c) for c in children))) or _render_inline(node)


def _render_item(item: Node) -> str:
    return " ".join(_render_block(c) for c in item.get("content", []))


def _render_inline(node: Node) -> str:
    kind = node.get("type")
    if kind == "hardBreak":
        return "\n"
    if kind in ("mention", "emoji"):
        return str(node.get("attrs", {}).get("text", ""))
    if kind == "inlineCard":
        return str(node.get("attrs", {}).get("url", ""))
    if kind != "text":
        return "".join(_render_inline(c) for c in node.get("content", []))
    text = str(node.get("text", ""))
    for mark in node.get("marks", []):
        match mark.get("type"):
            case "strong":
                text = f"**{text}**"
            case "em":
                text = f"*{text}*"
            case "code":
                text = f"`{text}`"
            case "link":
                text = f"[{text}]({mark.get('attrs', {}).get('href', '')})"
    return text


# -- ADF ⇄ HTML (Zoho Projects comments) ---------------------------------------------------
# Paragraphs, hard breaks, bullet/ordered lists, code blocks, and bold/italic/code/link marks
# survive a round trip; other nodes degrade to their text.
_HTML_MARKS = {"strong": "strong", "em": "em", "code": "code"}
_MARKS_BY_TAG = {"strong": "strong", "b": "strong", "em": "em", "i": "em", "code": "code"}
_LISTS = {"ul": "bulletList", "ol": "orderedList"}


def to_html(node: Node | None) -> str:
    return "".join(_html_block(b) for b in (node or {}).get("content", []))


def _html_block(node: Node) -> str:
    kind = node.get("type")
    children = node.get("content", [])
    if kind == "codeBlock":
        language = node.get("attrs", {}).get("language", "")
        named = f' class="language-{html.escape(language)}"' if language else ""
        return f"<pre><code{named}>{html.escape(''.join(c.get('text', '') for c in children))}" \
               "</code></pre>"
    if kind in ("bulletList", "orderedList"):
        tag = "ul" if kind == "bulletList" else "ol"
        items = "".join(f"<li>{_html_item(item)}</li>" for item in children)
        return f"<{tag}>{items}</{tag}>"
    if kind in ("paragraph", "heading"):
        return f"<p>{''.join(_html_inline(c) for c in children)}</p>"
    if children and all(c.get("type") in NODE_TYPES - _INLINE_TYPES for c in children):
        return "".join(_html_block(c) for c in children)
    return f"<p>{_html_inline(node)}</p>"


_INLINE_TYPES = frozenset({"text", "hardBreak", "mention", "emoji", "inlineCard", "date",
                           "status", "mediaInline", "inlineExtension", "placeholder"})


def _html_item(item: Node) -> str:
    return "<br>".join("".join(_html_inline(c) for c in block.get("content", []))
                       if block.get("type") == "paragraph" else _html_block(block)
                       for block in item.get("content", []))


def _html_inline(node: Node) -> str:
    kind = node.get("type")
    if kind != "text":
        return html.escape(_render_inline(node)).replace("\n", "<br>")
    text = html.escape(str(node.get("text", "")))
    for mark in reversed(node.get("marks", [])):
        name = mark.get("type")
        if name == "link":
            href = html.escape(str(mark.get("attrs", {}).get("href", "")))
            text = f'<a href="{href}">{text}</a>'
        elif name in _HTML_MARKS:
            text = f"<{_HTML_MARKS[name]}>{text}</{_HTML_MARKS[name]}>"
    return text


def from_html(markup: str) -> Node:
    parser = _HtmlToAdf()
    parser.feed(markup)
    parser.close()
    return doc(parser.finish())


class _HtmlToAdf(HTMLParser):
    """Builds ADF blocks from HTML; text outside any block becomes a paragraph."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.blocks: list[Node] = []
        self.inline: list[Node] | None = None  # the paragraph or list item being filled
        self.marks: list[Node] = []
        self.lists: list[tuple[str, list[Node]]] = []
        self.code: list[str] | None = None
        self.language = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("p", "div") and not self.lists:
            self._end_paragraph()
            self.inline = []
        elif tag == "br" and self.code is None:
            self._inline().append({"type": "hardBreak"})
        elif tag in _LISTS:
            self._end_paragraph()
            self.lists.append((_LISTS[tag], []))
        elif tag == "li" and self.lists:
            self.inline = []
        elif tag == "pre":
            self._end_paragraph()
            self.code, self.language = [], ""
        elif tag == "code" and self.code is not None:
            self.language = (dict(attrs).get("class") or "").removeprefix("language-")
        elif tag == "a":
            self.marks.append({"type": "link", "attrs": {"href": dict(attrs).get("href") or ""}})
        elif tag in _MARKS_BY_TAG and self.code is None:
            self.marks.append({"type": _MARKS_BY_TAG[tag]})

    def handle_endtag(self, tag: str) -> None:
        if tag in ("p", "div") and not self.lists:
            self._end_paragraph()
        elif tag == "li" and self.lists:
            self.lists[-1][1].append({"type": "listItem",
                                      "content": [_para(self.inline or [])]})
            self.inline = None
        elif tag in _LISTS and self.lists:
            kind, items = self.lists.pop()
            self._add_block({"type": kind, "content": items})
        elif tag == "pre" and self.code is not None:
            body = "".join(self.code)
            self.code = None
            block: Node = {"type": "codeBlock", "content": [_text(body)] if body else []}
            if self.language:
                block["attrs"] = {"language": self.language}
            self._add_block(block)
        elif (tag == "a" or tag in _MARKS_BY_TAG) and self.marks and self.code is None:
            self.marks.pop()

    def handle_data(self, data: str) -> None:
        if self.code is not None:
            self.code.append(data)
            return
        if self.inline is None and not data.strip():
            return  # layout whitespace between blocks
        data = data.replace("\n", " ")
        inline = self._inline()
        marks = [dict(m) for m in self.marks]
        last = inline[-1] if inline else None
        if last and last.get("type") == "text" and last.get("marks", []) == marks:
            last["text"] += data
        elif data:
            inline.append({"type": "text", "text": data, **({"marks": marks} if marks else {})})

    def _inline(self) -> list[Node]:
        if self.inline is None:
            self.inline = []
        return self.inline

    def _end_paragraph(self) -> None:
        if self.inline is not None and not self.lists:
            if self.inline:
                self.blocks.append(_para(self.inline))
            self.inline = None

    def _add_block(self, block: Node) -> None:
        if self.lists:  # a nested block inside a list item flattens into the item
            return
        self.blocks.append(block)

    def finish(self) -> list[Node]:
        self._end_paragraph()
        return self.blocks


def _para(content: list[Node]) -> Node:
    return {"type": "paragraph", "content": content}
