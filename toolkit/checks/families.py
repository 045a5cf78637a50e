"""Imports every rule family so that ``RULES`` is complete."""

from toolkit.checks import code, content, labels, language, markup, parse, staleness, tabs, unsafe

__all__ = ["code", "content", "labels", "language", "markup", "parse", "staleness", "tabs", "unsafe"]
