"""HTML mail rendered to readable plain text with the standard library parser."""

from __future__ import annotations

import re
from html.parser import HTMLParser

_BLOCK_TAGS = frozenset(
    {
        "address", "article", "blockquote", "center", "dd", "div", "dl", "dt",
        "fieldset", "figure", "footer", "form", "h1", "h2", "h3", "h4", "h5",
        "h6", "header", "main", "nav", "ol", "p", "section", "table", "tr", "ul",
    }
)  # fmt: skip
_SKIPPED_TAGS = frozenset({"script", "style", "head", "title", "template", "noscript"})
_SPACES = re.compile(r"[ \t\r\n\f\v]+")
_MANY_BLANK_LINES = re.compile(r"\n{3,}")


class _TextRenderer(HTMLParser):
    """Collect text with line breaks for blocks, items and ``<br>``."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self.skip_depth = 0
        self.pre_depth = 0
        self.quote_depth = 0
        self.lists: list[list[int]] = []  # per open list: [is_ordered, counter]
        self.links: list[str | None] = []
        self.link_start: list[int] = []

    def _tail(self) -> str:
        """Return the end of the output so far (enough to count newlines)."""
        pieces: list[str] = []
        for piece in reversed(self.out):
            pieces.append(piece)
            if piece.strip("\n"):
                break
        return "".join(reversed(pieces))

    def _newline(self, count: int = 1) -> None:
        tail = self._tail()
        trailing = len(tail) - len(tail.rstrip("\n"))
        if tail and trailing < count:
            self.out.append("\n" * (count - trailing))

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIPPED_TAGS:
            self.skip_depth += 1
        elif tag == "br":
            self.out.append("\n")
        elif tag == "pre":
            self.pre_depth += 1
            self._newline(2)
        elif tag == "blockquote":
            self.quote_depth += 1
            self._newline(2)
        elif tag in ("ul", "ol"):
            self.lists.append([tag == "ol", 0])
            self._newline()
        elif tag == "li":
            self._newline()
            self._list_marker()
        elif tag == "hr":
            self._newline()
            self.out.append("----\n")
        elif tag == "img":
            alt = dict(attrs).get("alt")
            if alt:
                self.out.append(f"[{alt.strip()}]")
        elif tag == "a":
            self.links.append(dict(attrs).get("href"))
            self.link_start.append(len(self.out))
        elif tag in ("td", "th"):
            self.out.append(" ")
        elif tag in _BLOCK_TAGS:
            self._newline(
                2 if tag in ("p", "blockquote", "table") or tag[0] == "h" else 1
            )

    def _list_marker(self) -> None:
        if not self.lists:
            self.out.append("- ")
            return
        current = self.lists[-1]
        current[1] += 1
        indent = "  " * (len(self.lists) - 1)
        self.out.append(f"{indent}{current[1]}. " if current[0] else f"{indent}- ")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag not in ("br", "hr", "img"):
            self.handle_endtag(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIPPED_TAGS:
            self.skip_depth = max(0, self.skip_depth - 1)
        elif tag == "pre":
            self.pre_depth = max(0, self.pre_depth - 1)
            self._newline(2)
        elif tag == "blockquote":
            self.quote_depth = max(0, self.quote_depth - 1)
            self._newline(2)
        elif tag in ("ul", "ol"):
            if self.lists:
                self.lists.pop()
            self._newline()
        elif tag == "a" and self.links:
            self._close_link()
        elif tag in _BLOCK_TAGS or tag == "li":
            self._newline(
                2 if tag in ("p", "blockquote", "table") or tag[0] == "h" else 1
            )

    def _close_link(self) -> None:
        href = (self.links.pop() or "").strip()
        start = self.link_start.pop()
        label = " ".join("".join(self.out[start:]).split())
        if not href or href.startswith(("#", "javascript:")):
            return
        target = href.removeprefix("mailto:")
        if target != label:
            self.out.append(f" <{href}>")

    def handle_data(self, data: str) -> None:
        if self.skip_depth:
            return
        if self.pre_depth:
            self.out.append(data)
            return
        collapsed = _SPACES.sub(" ", data)
        tail = self._tail()
        if not tail or tail.endswith(("\n", " ")):
            collapsed = collapsed.lstrip(" ")
        if self.quote_depth and collapsed and (not tail or tail.endswith("\n")):
            # Quoted history reads like a plain-text reply: "> " per level.
            collapsed = "> " * self.quote_depth + collapsed
        self.out.append(collapsed)


def html_to_text(html: str) -> str:
    """Render HTML to text: blocks and ``<br>`` break lines, lists get markers,
    quoted blocks get ``> ``, links become ``text <url>``, script and style
    are dropped."""
    renderer = _TextRenderer()
    renderer.feed(html)
    renderer.close()
    lines = [line.rstrip() for line in "".join(renderer.out).split("\n")]
    text = "\n".join(lines)
    return _MANY_BLANK_LINES.sub("\n\n", text).strip("\n")
