"""Findings: the values every check produces and every report renders.

Kept apart from the rules so that reading cached results needs neither the parser nor the
aligner (a warm run imports this and little else).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Severity = Literal["error", "warning", "info"]
SEVERITIES: tuple[Severity, ...] = ("error", "warning", "info")


@dataclass(frozen=True)
class Finding:
    code: str
    name: str
    severity: Severity
    path: str
    line: int
    message: str
    hint: str = ""
    detail: str = ""  # e.g. a diff; shown indented under the finding
    edition: str = ""
    chapter: str = ""
    # a grouped finding's single places ("line 42: changed …"): in JSON, HTML and under --verbose
    items: tuple[str, ...] = ()
    # the first lines of the translation's blocks the finding is about, where it names blocks
    # the reader sees (S001: the blocks that follow an older English): the site marks them
    marks: tuple[int, ...] = ()

    def location(self) -> str:
        return f"{self.path}:{self.line}"
