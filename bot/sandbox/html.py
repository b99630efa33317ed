"""Telegram's HTML parse mode: validation, plain text and message entities.

Bots fail in production on HTML Telegram rejects (`<br>`, an unescaped `<`, a tag left open), so
the sandbox parses with the same rules and the same error wording instead of accepting anything.
Entity offsets and lengths are in UTF-16 code units, as in the Bot API.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

_ATTR = re.compile(r"""([a-zA-Z-]+)\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+))""")
_CHAR_REF = re.compile(r"&(lt|gt|amp|quot|#[0-9]{1,7}|#x[0-9a-fA-F]{1,6});")
_NAMED_REFS = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_ENTITY_TYPES = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "tg-spoiler": "spoiler",
    "span": "spoiler",
    "code": "code",
    "pre": "pre",
    "blockquote": "blockquote",
    "a": "text_link",
    "tg-emoji": "custom_emoji",
}


class HtmlParseError(ValueError):
    """Raised with Telegram's description of why the markup cannot be parsed."""


@dataclass(frozen=True)
class ParsedText:
    """What a client shows: text without markup, plus entities in Bot API form."""

    text: str
    entities: tuple[dict[str, Any], ...] = ()


def utf16_len(text: str) -> int:
    """Length as Telegram counts it (UTF-16 code units)."""
    return len(text.encode("utf-16-le")) // 2


@dataclass
class _OpenTag:
    name: str
    start: int
    entity: dict[str, Any] | None
    attrs: dict[str, str] = field(default_factory=dict)


class _Parser:
    """One pass over the markup; tags are matched on a stack like Telegram's parser does."""

    def __init__(self, raw: str) -> None:
        self.raw = raw
        self.out: list[str] = []
        self.length = 0
        self.stack: list[_OpenTag] = []
        self.entities: list[dict[str, Any]] = []

    def run(self) -> ParsedText:
        pos = 0
        while pos < len(self.raw):
            char = self.raw[pos]
            if char == "<":
                pos = self._tag(pos)
            elif char == "&":
                pos = self._char_ref(pos)
            else:
                self._emit(char)
                pos += 1
        if self.stack:
            raise HtmlParseError(f'Can\'t find end tag corresponding to start tag "{self.stack[-1].name}"')
        self.entities.sort(key=lambda e: (e["offset"], -e["length"]))
        return ParsedText("".join(self.out), tuple(self.entities))

    def _emit(self, text: str) -> None:
        self.out.append(text)
        self.length += utf16_len(text)

    def _byte_offset(self, pos: int) -> int:
        return len(self.raw[:pos].encode())

    def _char_ref(self, pos: int) -> int:
        match = _CHAR_REF.match(self.raw, pos)
        if match is None:
            # Telegram keeps a bare "&" as text.
            self._emit("&")
            return pos + 1
        self._emit(_decode_ref(match.group(1)))
        return match.end()

    def _tag(self, pos: int) -> int:
        """Read a tag the way tdlib does: the name runs to whitespace or ">"."""
        if self.raw.startswith("</", pos):
            end = self.raw.find(">", pos)
            if end == -1:
                raise HtmlParseError(f"Unclosed end tag at byte offset {self._byte_offset(pos)}")
            self._close(self.raw[pos + 2 : end].strip().lower(), pos)
            return end + 1
        name_end = pos + 1
        while name_end < len(self.raw) and not self.raw[name_end].isspace() and self.raw[name_end] != ">":
            name_end += 1
        name = self.raw[pos + 1 : name_end].lower()
        end = self.raw.find(">", name_end)
        if name_end == len(self.raw) or (name in _ENTITY_TYPES and end == -1):
            raise HtmlParseError(f"Unclosed start tag at byte offset {self._byte_offset(pos)}")
        self._open(name, self.raw[name_end:end], pos)
        return end + 1

    def _open(self, name: str, attr_text: str, pos: int) -> None:
        attrs = {m.group(1).lower(): _first(m.group(2), m.group(3), m.group(4)) for m in _ATTR.finditer(attr_text)}
        if name not in _ENTITY_TYPES or attr_text.rstrip().endswith("/"):
            raise HtmlParseError(f'Unsupported start tag "{name}" at byte offset {self._byte_offset(pos)}')
        if name == "span" and attrs.get("class") != "tg-spoiler":
            raise HtmlParseError(f'Unsupported start tag "{name}" at byte offset {self._byte_offset(pos)}')
        self.stack.append(_OpenTag(name, self.length, self._entity_for(name, attrs, attr_text), attrs))

    def _entity_for(self, name: str, attrs: dict[str, str], attr_text: str) -> dict[str, Any] | None:
        entity: dict[str, Any] = {"type": _ENTITY_TYPES[name]}
        if name == "a":
            if "href" not in attrs:
                return None
            entity["url"] = _unescape(attrs["href"])
        elif name == "tg-emoji":
            entity["custom_emoji_id"] = attrs.get("emoji-id", "")
        elif name == "blockquote" and "expandable" in attr_text.split():
            entity["type"] = "expandable_blockquote"
        elif name == "code" and self.stack and self.stack[-1].name == "pre":
            language = attrs.get("class", "")
            if language.startswith("language-") and self.stack[-1].entity is not None:
                self.stack[-1].entity["language"] = language.removeprefix("language-")
                return None
        return entity

    def _close(self, name: str, pos: int) -> None:
        if not self.stack:
            raise HtmlParseError(f"Unexpected end tag at byte offset {self._byte_offset(pos)}")
        top = self.stack.pop()
        if top.name != name:
            raise HtmlParseError(
                f'Unmatched end tag at byte offset {self._byte_offset(pos)}, expected "</{top.name}>", '
                f'found "</{name}>"'
            )
        if top.entity is not None and self.length > top.start:
            self.entities.append({**top.entity, "offset": top.start, "length": self.length - top.start})


def _first(*values: str | None) -> str:
    return next((value for value in values if value is not None), "")


def _decode_ref(name: str) -> str:
    if name in _NAMED_REFS:
        return _NAMED_REFS[name]
    code = int(name[2:], 16) if name.startswith("#x") else int(name[1:])
    return chr(min(code, 0x10FFFF))


def _unescape(text: str) -> str:
    return _CHAR_REF.sub(lambda match: _decode_ref(match.group(1)), text)


def parse_html(raw: str) -> ParsedText:
    """Parse Telegram HTML; raise HtmlParseError with Telegram's wording when it would refuse it."""
    return _Parser(raw).run()
