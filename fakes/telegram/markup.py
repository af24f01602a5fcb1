"""Minimal parsers for the ``parse_mode`` values (HTML, MarkdownV2, Markdown).

They turn marked-up text into (plain text, entities) so the 4096 limit applies after entity parsing, and
reject broken markup with "can't parse entities: ..." like Telegram. The rules are a faithful subset, not
a full reimplementation; error wording follows Telegram's where known.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from .entities import utf16_len
from .errors import ApiError, bad_request

Entities = list[dict[str, Any]]

_HTML_TAGS = {
    "b": "bold", "strong": "bold", "i": "italic", "em": "italic", "u": "underline", "ins": "underline",
    "s": "strikethrough", "strike": "strikethrough", "del": "strikethrough", "tg-spoiler": "spoiler",
    "span": "spoiler", "a": "text_link", "code": "code", "pre": "pre", "blockquote": "blockquote",
    "tg-emoji": "custom_emoji",
}
_NAMED_HTML_ENTITIES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_MD2_RESERVED = set("_*[]()~`>#+-=|{}.!")
_MD2_NAMES = {
    "bold": "Bold", "italic": "Italic", "underline": "Underline", "strikethrough": "Strikethrough",
    "spoiler": "Spoiler", "text_link": "TextUrl", "code": "Code", "pre": "Pre",
}


def parse_error(detail: str) -> ApiError:
    return bad_request(f"can't parse entities: {detail}")


def parse_text(text: str, parse_mode: str | None) -> tuple[str, Entities] | None:
    """(plain text, entities) for a parse_mode, or None when no parse_mode applies."""
    if not parse_mode:
        return None
    mode = parse_mode.strip().lower()
    if mode == "html":
        return _HtmlParser(text).parse()
    if mode == "markdownv2":
        return _MarkdownV2Parser(text).parse()
    if mode == "markdown":
        return _parse_legacy_markdown(text)
    raise bad_request("unsupported parse_mode")


@dataclass
class _Output:
    """Plain text being built, with the UTF-16 position of its end."""

    parts: list[str] = field(default_factory=list)
    position: int = 0
    entities: Entities = field(default_factory=list)

    def add(self, piece: str) -> None:
        self.parts.append(piece)
        self.position += utf16_len(piece)

    def close(self, kind: str, start: int, **extra: Any) -> None:
        if self.position > start:
            self.entities.append({"type": kind, "offset": start, "length": self.position - start, **extra})

    def result(self) -> tuple[str, Entities]:
        self.entities.sort(key=lambda item: (item["offset"], -item["length"]))
        return "".join(self.parts), self.entities


def _byte_offset(text: str, index: int) -> int:
    return len(text[:index].encode("utf-8"))


class _HtmlParser:
    _TAG = re.compile(r"<(/?)([A-Za-z][A-Za-z0-9-]*)?([^<>]*?)(/?)>", re.DOTALL)
    _ATTR = re.compile(r"\s*([A-Za-z-]+)\s*(?:=\s*(\"[^\"]*\"|'[^']*'|[^\s\"']+))?")

    def __init__(self, text: str) -> None:
        self.text = text
        self.out = _Output()
        self.stack: list[tuple[str, str, int, dict[str, Any]]] = []  # tag, kind, start, extra

    def parse(self) -> tuple[str, Entities]:
        index = 0
        while index < len(self.text):
            char = self.text[index]
            if char == "<":
                index = self._tag(index)
            elif char == "&":
                index = self._entity(index)
            else:
                next_special = min(
                    (pos for pos in (self.text.find("<", index), self.text.find("&", index)) if pos >= 0),
                    default=len(self.text),
                )
                self.out.add(self.text[index:next_special])
                index = next_special
        if self.stack:
            raise parse_error(f'Can\'t find end tag corresponding to start tag "{self.stack[-1][0]}"')
        return self.out.result()

    def _entity(self, index: int) -> int:
        match = re.match(r"&(#x[0-9A-Fa-f]+|#[0-9]+|[A-Za-z]+);", self.text[index:])
        if match is None:
            self.out.add("&")
            return index + 1
        name = match.group(1)
        if name.startswith("#x"):
            self.out.add(chr(int(name[2:], 16)))
        elif name.startswith("#"):
            self.out.add(chr(int(name[1:])))
        elif name in _NAMED_HTML_ENTITIES:
            self.out.add(_NAMED_HTML_ENTITIES[name])
        else:
            self.out.add(match.group(0))
        return index + match.end()

    def _tag(self, index: int) -> int:
        offset = _byte_offset(self.text, index)
        match = self._TAG.match(self.text, index)
        if match is None:
            raise parse_error(f'Unsupported start tag "" at byte offset {offset}')
        closing, name, attributes = match.group(1) == "/", (match.group(2) or "").lower(), match.group(3)
        if closing:
            self._close(name, offset)
        else:
            if name not in _HTML_TAGS:
                raise parse_error(f'Unsupported start tag "{name}" at byte offset {offset}')
            extra = self._attributes(name, attributes, offset)
            kind = extra.pop("kind", _HTML_TAGS[name])
            self.stack.append((name, str(kind), self.out.position, extra))
        return match.end()

    def _attributes(self, name: str, raw: str, offset: int) -> dict[str, Any]:
        values = {key.lower(): (value or "").strip("\"'") for key, value in self._ATTR.findall(raw)}
        if name == "a":
            href = values.get("href", "")
            user = re.fullmatch(r"tg://user\?id=(\d+)", href)
            if user:
                return {"kind": "text_mention", "user": {"id": int(user.group(1)), "is_bot": False, "first_name": ""}}
            return {"url": href} if href else {"kind": "none"}
        if name == "span" and values.get("class") != "tg-spoiler":
            raise parse_error(f'Unsupported start tag "span" at byte offset {offset}')
        if name == "code" and values.get("class", "").startswith("language-"):
            return {"language": values["class"].removeprefix("language-")}
        if name == "blockquote" and "expandable" in values:
            return {"kind": "expandable_blockquote"}
        if name == "tg-emoji":
            return {"custom_emoji_id": values.get("emoji-id", "")}
        return {}

    def _close(self, name: str, offset: int) -> None:
        if not self.stack:
            raise parse_error(f"Unexpected end tag at byte offset {offset}")
        tag, kind, start, extra = self.stack.pop()
        if tag != name:
            raise parse_error(
                f'Unmatched end tag at byte offset {offset}, expected "</{tag}>", found "</{name}>"'
            )
        if kind == "code":
            language = extra.pop("language", None)
            if language and self.stack and self.stack[-1][1] == "pre":
                # <pre><code class="language-x"> is one pre entity carrying the language
                self.stack[-1][3]["language"] = language
                return
        if kind != "none":
            self.out.close(kind, start, **extra)


class _MarkdownV2Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.out = _Output()
        self.stack: list[tuple[str, int, int]] = []  # kind, output start, source index
        self.quote_start: int | None = None

    def parse(self) -> tuple[str, Entities]:
        index = 0
        text = self.text
        while index < len(text):
            char = text[index]
            at_line_start = index == 0 or text[index - 1] == "\n"
            if char == "\\" and index + 1 < len(text):
                self.out.add(text[index + 1])
                index += 2
            elif char == "`":
                index = self._code(index)
            elif char == ">" and at_line_start:
                if self.quote_start is None:
                    self.quote_start = self.out.position
                index += 1
            elif char == "\n" and self.quote_start is not None and not text.startswith(">", index + 1):
                self.out.close("blockquote", self.quote_start)
                self.quote_start = None
                self.out.add(char)
                index += 1
            elif char in "*_~|[]":
                index = self._marker(index)
            elif char in _MD2_RESERVED:
                raise parse_error(f"Character '{char}' is reserved and must be escaped with the preceding '\\'")
            else:
                self.out.add(char)
                index += 1
        if self.quote_start is not None:
            self.out.close("blockquote", self.quote_start)
        if self.stack:
            kind, _, source = self.stack[-1]
            raise parse_error(
                f"Can't find end of {_MD2_NAMES[kind]} entity at byte offset {_byte_offset(text, source)}"
            )
        return self.out.result()

    def _marker(self, index: int) -> int:
        text = self.text
        if text.startswith("__", index):
            kind, width = "underline", 2
        elif text.startswith("||", index):
            kind, width = "spoiler", 2
        elif text[index] == "|":
            raise parse_error("Character '|' is reserved and must be escaped with the preceding '\\'")
        else:
            kind, width = {"*": "bold", "_": "italic", "~": "strikethrough", "[": "text_link", "]": "]"}[
                text[index]
            ], 1
        if kind == "]":
            return self._link_end(index)
        if self.stack and self.stack[-1][0] == kind and kind != "text_link":
            _, start, _ = self.stack.pop()
            self.out.close(kind, start)
        elif any(open_kind == kind for open_kind, _, _ in self.stack):
            raise parse_error(
                f"Can't find end of {_MD2_NAMES[self.stack[-1][0]]} entity at byte offset "
                f"{_byte_offset(text, self.stack[-1][2])}"
            )
        else:
            self.stack.append((kind, self.out.position, index))
        return index + width

    def _link_end(self, index: int) -> int:
        if not self.stack or self.stack[-1][0] != "text_link":
            raise parse_error("Character ']' is reserved and must be escaped with the preceding '\\'")
        _, start, _ = self.stack.pop()
        if not self.text.startswith("(", index + 1):
            return index + 1  # "[text]" without a URL stays plain text
        end = index + 2
        url: list[str] = []
        while end < len(self.text) and self.text[end] != ")":
            if self.text[end] == "\\" and end + 1 < len(self.text):
                end += 1
            url.append(self.text[end])
            end += 1
        if end >= len(self.text):
            raise parse_error(f"Can't find end of a URL at byte offset {_byte_offset(self.text, index + 1)}")
        self.out.close("text_link", start, url="".join(url))
        return end + 1

    def _code(self, index: int) -> int:
        text = self.text
        is_pre = text.startswith("```", index)
        fence = "```" if is_pre else "`"
        body_start = index + len(fence)
        language = ""
        if is_pre:
            newline = text.find("\n", body_start)
            first_line = text[body_start:newline] if newline >= 0 else ""
            if newline >= 0 and re.fullmatch(r"[\w+#.-]*", first_line):
                language, body_start = first_line, newline + 1
        start = self.out.position
        cursor = body_start
        while cursor < len(text) and not text.startswith(fence, cursor):
            if text[cursor] == "\\" and cursor + 1 < len(text):
                cursor += 1
            self.out.add(text[cursor])
            cursor += 1
        if cursor >= len(text):
            kind = "Pre" if is_pre else "Code"
            raise parse_error(f"Can't find end of {kind} entity at byte offset {_byte_offset(text, index)}")
        if is_pre:
            self.out.close("pre", start, **({"language": language} if language else {}))
        else:
            self.out.close("code", start)
        return cursor + len(fence)


def _parse_legacy_markdown(text: str) -> tuple[str, Entities]:
    out = _Output()
    index = 0
    markers = {"*": "bold", "_": "italic", "`": "code"}
    while index < len(text):
        char = text[index]
        if char == "\\" and index + 1 < len(text) and text[index + 1] in "_*`[":
            out.add(text[index + 1])
            index += 2
            continue
        fence = "```" if text.startswith("```", index) else char
        if fence == "```" or char in markers or char == "[":
            closing = "]" if char == "[" else fence
            end = text.find(closing, index + len(fence))
            if end < 0:
                raise parse_error(
                    f"Can't find end of the entity starting at byte offset {_byte_offset(text, index)}"
                )
            start = out.position
            out.add(text[index + len(fence) : end])
            if char == "[":
                url_match = re.match(r"\(([^)]*)\)", text[end + 1 :])
                if url_match:
                    out.close("text_link", start, url=url_match.group(1))
                    index = end + 1 + url_match.end()
                    continue
                index = end + 1
                continue
            out.close("pre" if fence == "```" else markers[char], start)
            index = end + len(fence)
            continue
        out.add(char)
        index += 1
    return out.result()
