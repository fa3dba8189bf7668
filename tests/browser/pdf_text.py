"""The text lines of an invoice PDF as fpdf2 draws it, read back without a PDF library (none is
installed; fpdf2 only writes).

Enough of PDF for these documents: numbered objects, FlateDecode content streams, fonts named
in the page's resources, each glyph code mapped back to text through the font's ToUnicode
map (``bfchar`` and ``bfrange``), and ``(…) Tj`` strings, one per drawn cell. With the built-in
font (no DejaVu on the machine) the codes are Latin-1 and there is no map.
"""

from __future__ import annotations

import re
import zlib

_OBJECT = re.compile(rb"(\d+) 0 obj\s*(.*?)endobj", re.S)
_STREAM = re.compile(rb"stream\r?\n(.*?)\r?\nendstream", re.S)
_CONTENTS = re.compile(rb"/Contents (\d+) 0 R")
_FONT_REF = re.compile(rb"/(F\d+) (\d+) 0 R")
_TO_UNICODE = re.compile(rb"/ToUnicode (\d+) 0 R")
_BFCHAR = re.compile(rb"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>")
_BFRANGE = re.compile(rb"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>")
_SHOW = re.compile(rb"/(F\d+) [\d.]+ Tf|\(((?:\\.|[^\\)])*)\) Tj", re.S)
_ESCAPES = {b"n": b"\n", b"r": b"\r", b"t": b"\t", b"b": b"\b", b"f": b"\f"}


def _stream(body: bytes) -> bytes:
    found = _STREAM.search(body)
    if found is None:
        return b""
    data = found.group(1)
    return zlib.decompress(data) if b"/FlateDecode" in body[: found.start()] else data


def _to_unicode(cmap: bytes) -> dict[int, str]:
    codes: dict[int, str] = {}
    for block in re.findall(rb"beginbfrange(.*?)endbfrange", cmap, re.S):
        for low, high, first in _BFRANGE.findall(block):
            for offset in range(int(high, 16) - int(low, 16) + 1):
                codes[int(low, 16) + offset] = chr(int(first, 16) + offset)
    for block in re.findall(rb"beginbfchar(.*?)endbfchar", cmap, re.S):
        for code, text in _BFCHAR.findall(block):
            codes[int(code, 16)] = bytes.fromhex(text.decode()).decode("utf-16-be")
    return codes


def _unescape(literal: bytes) -> bytes:
    def one(match: re.Match[bytes]) -> bytes:
        escaped = match.group(1)
        if escaped[:1].isdigit():
            return bytes([int(escaped, 8)])
        return _ESCAPES.get(escaped, escaped)

    return re.sub(rb"\\([0-7]{1,3}|.)", one, literal, flags=re.S)


def lines(document: bytes) -> list[str]:
    """Each string the pages draw, in drawing order."""
    objects = {int(number): body for number, body in _OBJECT.findall(document)}
    maps: dict[str, dict[int, str]] = {}
    contents: list[bytes] = []
    for body in objects.values():
        page = _CONTENTS.search(body)  # only a page has contents
        if page is not None:
            contents.append(_stream(objects[int(page.group(1))]))
        for name, number in _FONT_REF.findall(body):
            cmap = _TO_UNICODE.search(objects[int(number)])
            if cmap is not None:
                maps[name.decode()] = _to_unicode(_stream(objects[int(cmap.group(1))]))
    drawn: list[str] = []
    font: dict[int, str] | None = None
    for content in contents:
        for name, literal in _SHOW.findall(content):
            if name:
                font = maps.get(name.decode())
                continue
            raw = _unescape(literal)
            if font is None:
                drawn.append(raw.decode("latin-1"))
            else:
                pairs = zip(raw[::2], raw[1::2], strict=True)
                drawn.append("".join(font.get(high << 8 | low, "?") for high, low in pairs))
    return drawn


__all__ = ["lines"]
