"""Decoding chapter bytes into text, with diagnostics instead of exceptions.

Invariant: ``encode_source(decode_source(data).text) == data`` for any bytes, so a chapter can
always be written back byte for byte: invalid UTF-8 is kept through ``surrogateescape``, the
BOM and CRLF line endings are kept in ``text`` (markdown-it normalises them when parsing; line
numbers are the same either way).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from toolkit.model import Diagnostic

BOM = "\ufeff"


@dataclass(frozen=True)
class DecodedSource:
    text: str
    diagnostics: tuple[Diagnostic, ...]


#: Control characters a markdown file should not hold: all below a space but tab and line
#: feed, and a carriage return unless it ends a line (``\r\n``).
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]|\r(?!\n)")


def decode_source(data: bytes) -> DecodedSource:
    diagnostics: list[Diagnostic] = []
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        diagnostics.append(
            Diagnostic(
                "X003",
                f"invalid UTF-8 at byte {error.start}; the file is read with the bad bytes kept as they are",
                line,
            )
        )
        text = data.decode("utf-8", errors="surrogateescape")
    if b"\x00" in data:
        line = data[: data.index(b"\x00")].count(b"\n") + 1
        diagnostics.append(Diagnostic("X003", "NUL byte: this looks like a binary file, not markdown", line))
    # a carriage return is a line ending only before \n: alone it is damage (\rightarrow)
    controls = [found.start() for found in CONTROL.finditer(text)]
    if controls and b"\x00" not in data:
        line = text[: controls[0]].count("\n") + 1
        diagnostics.append(
            Diagnostic(
                "X006",
                f"{len(controls)} control character(s) such as {text[controls[0]]!r}; "
                "was a backslash escape (\\b, \\t) read by a tool?",
                line,
            )
        )
    if text.startswith(BOM):
        diagnostics.append(Diagnostic("X004", "the file starts with a byte-order mark (BOM)", 1, "warning"))
    if "\r\n" in text:
        line = text[: text.index("\r\n")].count("\n") + 1
        diagnostics.append(Diagnostic("X004", "CRLF line endings; d2l sources use LF", line, "warning"))
    if not text.strip():
        diagnostics.append(Diagnostic("X005", "the file is empty", 1, "warning"))
    return DecodedSource(text, tuple(diagnostics))


def encode_source(text: str) -> bytes:
    return text.encode("utf-8", errors="surrogateescape")
