"""What run-cells stores and hands on, as typed values with one status vocabulary.

Two files cross the boundary between the executor and everything else:

- ``<cache>/outputs/<key>.json``: one program's run (``StoredRun``), content-addressed by the
  program's key; it is what ``--export-cache`` packs and ``--import-cache`` accepts.
- ``<project>/build/cells/<edition>/<chapter>.json``: what one edition's chapter shows per
  framework and cell (``ChapterManifest``); the site reads these and never executes code.

Invariants:
- ``from_json`` accepts exactly what ``to_json`` writes and raises ``ResultFormatError`` on
  anything else (a file from another machine or an older toolkit is checked, never trusted).
- Statuses are tokens of ``CellStatus`` and ``ProgramStatus``; whether a result came from
  the cache is the ``cached`` flag, never a status of its own.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, get_args

# what happened to one cell; "not-executed": the edition shows it, nothing ran it (its code
# differs from English, or the whole program was skipped)
CellStatus = Literal["ok", "error", "timeout", "crashed", "not-run", "needs-data", "not-executed"]
# what happened to one program (a chapter's cells for one framework)
ProgramStatus = Literal["ok", "failed", "timed-out", "needs-data", "skipped", "not-run"]
# how a translated cell gets its output: the English cell's, its own (trusted run), none
# because its code differs from English, or none because English has no such cell
Sharing = Literal["shared", "own", "differs", "extra"]

CELL_STATUSES: tuple[str, ...] = get_args(CellStatus)
PROGRAM_STATUSES: tuple[str, ...] = get_args(ProgramStatus)
SHARINGS: tuple[str, ...] = get_args(Sharing)


class ResultFormatError(ValueError):
    """A stored run or manifest that is not what this toolkit writes."""


def _field(data: Mapping[str, Any], name: str, kind: type | tuple[type, ...]) -> Any:
    value = data.get(name)
    if not isinstance(value, kind) or (isinstance(value, bool) and bool not in _types(kind)):
        raise ResultFormatError(f"{name!r} is {type(value).__name__}, not {_names(kind)}")
    return value


def _types(kind: type | tuple[type, ...]) -> tuple[type, ...]:
    return kind if isinstance(kind, tuple) else (kind,)


def _names(kind: type | tuple[type, ...]) -> str:
    return " or ".join(t.__name__ for t in _types(kind))


def _token(data: Mapping[str, Any], name: str, allowed: tuple[str, ...]) -> Any:
    value = _field(data, name, str)
    if value not in allowed:
        raise ResultFormatError(f"{name!r} is {value!r}, not one of {', '.join(allowed)}")
    return value


def _outputs(data: Mapping[str, Any]) -> tuple[dict[str, Any], ...]:
    outputs = _field(data, "outputs", list)
    if not all(isinstance(output, dict) for output in outputs):
        raise ResultFormatError("'outputs' holds something that is not an output")
    return tuple(outputs)


def _mapping(data: object) -> Mapping[str, Any]:
    if not isinstance(data, dict):
        raise ResultFormatError(f"a {type(data).__name__}, not an object")
    return data


@dataclass(frozen=True)
class CellResult:
    """One cell as a kernel ran it (``line``: the cell's line in the file the program came from)."""

    line: int
    status: CellStatus
    outputs: tuple[dict[str, Any], ...]  # nbformat output dicts
    seconds: float
    error: str = ""  # "NameError: name 'x' is not defined", "timed out after 5s", ...
    traceback: str = ""

    def to_json(self) -> dict[str, Any]:
        return {
            "line": self.line,
            "status": self.status,
            "outputs": list(self.outputs),
            "seconds": round(self.seconds, 3),
            "error": self.error,
            "traceback": self.traceback,
        }

    @staticmethod
    def from_json(data: object) -> CellResult:
        item = _mapping(data)
        return CellResult(
            _field(item, "line", int),
            _token(item, "status", CELL_STATUSES),
            _outputs(item),
            float(_field(item, "seconds", (int, float))),
            _field(item, "error", str),
            _field(item, "traceback", str),
        )


@dataclass(frozen=True)
class ProgramRun:
    """A program's cells as they ran; ``problem`` says why the kernel never ran them."""

    cells: tuple[CellResult, ...]
    seconds: float
    problem: str = ""  # the kernel would not start, ...
    extra: dict[str, Any] = field(default_factory=dict)  # e.g. the Ray node that ran it

    @property
    def ok(self) -> bool:
        return not self.problem and all(c.status == "ok" for c in self.cells)


@dataclass(frozen=True)
class StoredRun:
    """``<cache>/outputs/<key>.json``: a finished run of the program whose key names the file."""

    key: str
    framework: str
    chapter: str
    device: str  # "cpu" or "gpu": where it ran
    run: ProgramRun

    def to_json(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "framework": self.framework,
            "chapter": self.chapter,
            "device": self.device,
            "seconds": self.run.seconds,
            "cells": [c.to_json() for c in self.run.cells],
            "extra": self.run.extra,
        }

    @staticmethod
    def from_json(data: object) -> StoredRun:
        item = _mapping(data)
        extra = item.get("extra", {})
        if not isinstance(extra, dict):
            raise ResultFormatError("'extra' is not an object")
        cells = tuple(CellResult.from_json(c) for c in _field(item, "cells", list))
        return StoredRun(
            _field(item, "key", str),
            _field(item, "framework", str),
            _field(item, "chapter", str),
            _field(item, "device", str),
            ProgramRun(cells, float(_field(item, "seconds", (int, float))), extra=extra),
        )

    @staticmethod
    def load(path: Path) -> StoredRun | None:
        """The run stored at ``path``, or None when it is missing, unreadable or not one."""
        try:
            return StoredRun.from_json(json.loads(path.read_text("utf-8")))
        except (OSError, ValueError):
            return None


def program_status(run: ProgramRun | None, skipped: str) -> ProgramStatus:
    """How a program ended: the first cell that wanted a dataset makes it ``needs-data``
    (what follows failed for want of it), else any timeout ``timed-out``, any other failure
    ``failed``."""
    if skipped:
        return "skipped"
    if run is None:
        return "not-run"
    if run.problem:
        return "failed"
    first_failure = next((c for c in run.cells if c.status != "ok"), None)
    if first_failure is not None and first_failure.status == "needs-data":
        return "needs-data"
    if any(c.status == "timeout" for c in run.cells):
        return "timed-out"
    if any(c.status in ("error", "crashed", "not-run") for c in run.cells):
        return "failed"
    return "ok"


@dataclass(frozen=True)
class ShownCell:
    """One translated cell of an edition's chapter for one framework: what the site shows."""

    line: int  # the cell's line in the edition's file
    english_line: int | None  # the English cell whose output it shows
    index: int | None  # the cell's place in the program that ran it
    sharing: Sharing
    status: CellStatus
    outputs: tuple[dict[str, Any], ...]
    reason: str  # why it has no output ("" when it has)

    def to_json(self) -> dict[str, Any]:
        return {
            "line": self.line,
            "english_line": self.english_line,
            "index": self.index,
            "sharing": self.sharing,
            "status": self.status,
            "outputs": list(self.outputs),
            "reason": self.reason,
        }

    @staticmethod
    def from_json(data: object) -> ShownCell:
        item = _mapping(data)
        english_line, index = item.get("english_line"), item.get("index")
        if not (english_line is None or isinstance(english_line, int)) or not (
            index is None or isinstance(index, int)
        ):
            raise ResultFormatError("'english_line' and 'index' are whole numbers or null")
        return ShownCell(
            _field(item, "line", int),
            english_line,
            index,
            _token(item, "sharing", SHARINGS),
            _token(item, "status", CELL_STATUSES),
            _outputs(item),
            _field(item, "reason", str),
        )


@dataclass(frozen=True)
class FrameworkOutputs:
    """One framework's program for a chapter: how it ended and every cell the edition shows."""

    status: ProgramStatus
    cached: bool  # answered from the cache (or an imported run), not run now
    device: str  # where it ran: "cpu" or "gpu"
    device_detail: str
    key: str  # the program's cache key
    skipped: str  # why it never ran ("" when it did)
    seconds: float
    cells: tuple[ShownCell, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "cached": self.cached,
            "device": self.device,
            "device_detail": self.device_detail,
            "key": self.key,
            "skipped": self.skipped,
            "seconds": self.seconds,
            "cells": [c.to_json() for c in self.cells],
        }

    @staticmethod
    def from_json(data: object) -> FrameworkOutputs:
        item = _mapping(data)
        return FrameworkOutputs(
            _token(item, "status", PROGRAM_STATUSES),
            _field(item, "cached", bool),
            _field(item, "device", str),
            _field(item, "device_detail", str),
            _field(item, "key", str),
            _field(item, "skipped", str),
            float(_field(item, "seconds", (int, float))),
            tuple(ShownCell.from_json(c) for c in _field(item, "cells", list)),
        )


@dataclass(frozen=True)
class ChapterManifest:
    """``build/cells/<edition>/<chapter>.json``: what an edition's chapter shows, per framework."""

    edition: str
    chapter: str
    frameworks: Mapping[str, FrameworkOutputs]

    def status(self, framework: str) -> ProgramStatus:
        """The framework's program status; ``not-run`` when the chapter has none for it."""
        outputs = self.frameworks.get(framework)
        return outputs.status if outputs is not None else "not-run"

    def to_json(self) -> dict[str, Any]:
        return {
            "edition": self.edition,
            "chapter": self.chapter,
            "frameworks": {fw: outputs.to_json() for fw, outputs in self.frameworks.items()},
        }

    @staticmethod
    def from_json(data: object) -> ChapterManifest:
        item = _mapping(data)
        frameworks = _field(item, "frameworks", dict)
        return ChapterManifest(
            _field(item, "edition", str),
            _field(item, "chapter", str),
            {str(fw): FrameworkOutputs.from_json(outputs) for fw, outputs in frameworks.items()},
        )

    @staticmethod
    def load(path: Path) -> ChapterManifest | None:
        """The manifest at ``path``, or None when there is none or it is not one (an older
        toolkit's: run-cells writes it again)."""
        try:
            return ChapterManifest.from_json(json.loads(path.read_text("utf-8")))
        except (OSError, ValueError):
            return None
