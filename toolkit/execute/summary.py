"""What a run-cells report says: pure functions from a ``RunReport`` to values the CLI prints.

Invariants: nothing here runs a kernel or prints; the text and JSON forms list the same
failures, untrusted cells, skipped environments and matrix cells.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from toolkit.execute.devices import Device
from toolkit.execute.environments import Environment
from toolkit.execute.results import CellResult, ChapterManifest, ShownCell, program_status
from toolkit.execute.runner import RunReport


@dataclass(frozen=True)
class Failure:
    path: str
    line: int
    framework: str
    cell: CellResult
    shown_at: tuple[str, ...] = ()  # "translations/tr/x.md:120": where each edition shows the cell

    def headline(self) -> str:
        return f"{self.path}:{self.line}: {self.framework} cell {self.cell.status}: {self.cell.error}"

    def detail_lines(self, stream_lines: int = 5, traceback_lines: int = 8) -> list[str]:
        text = "".join(
            str(o.get("text", "")) for o in self.cell.outputs if o.get("output_type") == "stream"
        ).strip()
        shown = text.splitlines()[-stream_lines:] if text else []
        shown += self.cell.traceback.strip().splitlines()[-traceback_lines:]
        return shown


def gpu_problem(devices: dict[str, Device], environments: dict[str, Environment]) -> str | None:
    """Why ``--gpu`` cannot be honoured, naming each framework and what it sees; None if it can."""
    lines = []
    for framework, device in devices.items():
        env = environments[framework]
        if not env.ready:
            lines.append(f"  {framework}: no environment ({env.reason})")
        elif device.kind != "gpu":
            lines.append(f"  {framework}: sees no GPU ({device.detail})")
    if not lines:
        return None
    return "--gpu needs a GPU for every framework:\n" + "\n".join(lines)


def _relative(path: Path, root: Path | None) -> Path:
    if root is not None:
        with contextlib.suppress(ValueError):
            return path.resolve().relative_to(root.resolve())
    return path


def failures(report: RunReport, root: Path | None = None) -> list[Failure]:
    """Every cell that failed, timed out, crashed its kernel or did not run after a crash,
    each with the places in the editions' files that show it."""
    found = []
    for entry in report.planned:
        run = report.run_of(entry.key)
        cells = list(run.cells if run else ())
        first = next((i for i, c in enumerate(cells) if c.status != "ok"), None)
        if first is not None and cells[first].status == "needs-data":
            # the cells after a missing dataset fail for that reason: name the download once
            later = sum(1 for c in cells[first + 1 :] if c.status != "ok")
            cell = cells[first]
            if later:
                cell = CellResult(
                    cell.line,
                    cell.status,
                    cell.outputs,
                    cell.seconds,
                    f"{cell.error} ({later} later cell(s) failed for want of it)",
                    cell.traceback,
                )
            cells = [*cells[:first], cell]
        for index, cell in enumerate(cells):
            if cell.status in ("error", "timeout", "crashed", "not-run", "needs-data"):
                framework = entry.program.framework
                places = tuple(
                    f"{_relative(report.paths.get((edition, chapter), Path(edition, chapter)), root)}:{shown.line}"
                    for edition, chapter in entry.sources
                    if edition != "en"
                    for shown in _cells_of(report, edition, chapter, framework, entry.key)
                    if shown.index == index
                )
                found.append(
                    Failure(
                        str(_relative(Path(entry.program.path), root)), cell.line, framework, cell, places
                    )
                )
    return found


def _cells_of(report: RunReport, edition: str, chapter: str, framework: str, key: str) -> list[ShownCell]:
    """The manifest cells of one edition's chapter that program ``key`` produced."""
    manifest = report.manifests.get((edition, chapter))
    outputs = manifest.frameworks.get(framework) if manifest is not None else None
    return list(outputs.cells) if outputs is not None and outputs.key == key else []


def exit_code(report: RunReport) -> int:
    """2 when an environment is missing (set-up error), 1 when a cell failed, else 0."""
    if any(not env.ready for env in report.environments.values()):
        return 2
    statuses = {report.status(e, c, fw) for (e, c) in report.manifests for fw in report.environments}
    return 1 if statuses & {"failed", "timed-out"} else 0


def save_difference_lines(report: RunReport, root: Path | None = None) -> list[str]:
    """``path:line: framework #@save `name` differs from d2l/torch.py:LINE (origin)``, sorted."""
    lines = []
    for path, framework, origin, difference in report.save_differences:
        lines.append(
            f"{_relative(path, root)}:{difference.line}: {framework} #@save `{difference.name}` {difference.detail} ({origin})"
        )
    return sorted(set(lines))


def served_pages(report: RunReport) -> int:
    """(edition, chapter, framework) pages whose outputs came from a run of this report."""
    return sum(len(m.frameworks) for m in report.manifests.values())


def status_counts(report: RunReport) -> dict[str, int]:
    """How many distinct programs ended how (ok, failed, needs-data, ...)."""
    counts: dict[str, int] = {}
    for entry in report.planned:
        status = program_status(report.run_of(entry.key), entry.skipped)
        counts[status] = counts.get(status, 0) + 1
    return counts


def matrix_cell(manifest: ChapterManifest, framework: str) -> str:
    info = manifest.frameworks.get(framework)
    if info is None:
        return "—"
    differing = sum(1 for c in info.cells if c.sharing == "differs")
    note = f" ({differing} not run)" if differing else ""
    cached = " cached" if info.cached else ""
    return f"{info.status}{cached} {info.seconds:.1f}s{note}"


def matrix_rows(report: RunReport) -> list[tuple[str, str, ChapterManifest]]:
    """(chapter, edition, manifest), English first within each chapter."""
    ordered = sorted(report.manifests.items(), key=lambda kv: (kv[0][1], kv[0][0] != "en", kv[0][0]))
    return [(chapter, edition, manifest) for (edition, chapter), manifest in ordered]


def report_json(report: RunReport, root: Path | None = None) -> dict[str, Any]:
    """The run as JSON; paths relative to ``root`` (the project) when given."""
    return {
        "devices": {fw: {"kind": d.kind, "detail": d.detail} for fw, d in report.devices.items()},
        "environments": {
            fw: {"ready": e.ready, "python": str(e.python or ""), "reason": e.reason}
            for fw, e in report.environments.items()
        },
        "executions": report.executions,
        "served_pages": served_pages(report),
        "program_statuses": status_counts(report),
        "save_differences": save_difference_lines(report, root),
        "without_library": [{"edition": e, "chapter": c, "framework": fw} for e, c, fw in report.no_library],
        "programs": len(report.planned),
        "seconds": round(report.seconds, 2),
        "results": [
            {
                "edition": edition,
                "chapter": chapter,
                "framework": fw,
                "status": outputs.status,
                "cached": outputs.cached,
                "device": outputs.device,
                "seconds": outputs.seconds,
            }
            for chapter, edition, manifest in matrix_rows(report)
            for fw, outputs in manifest.frameworks.items()
        ],
        "failures": [
            {
                "path": f.path,
                "line": f.line,
                "framework": f.framework,
                "status": f.cell.status,
                "error": f.cell.error,
                "traceback": f.cell.traceback,
                "shown_at": list(f.shown_at),
            }
            for f in failures(report, root)
        ],
        "untrusted": [
            {
                "edition": e,
                "chapter": c,
                "path": str(_relative(report.paths[(e, c)], root)) if (e, c) in report.paths else "",
                "line": line,
                "framework": fw,
            }
            for e, c, line, fw in report.untrusted
        ],
        # whole chapters whose code would come from a file that is not English: none of it ran
        "unproven": [
            {"edition": e, "chapter": c, "english": str(_relative(path, root))}
            for e, c, path in report.unproven
        ],
        "library_files_refused": [
            {"path": path, "reason": why} for path, why in sorted(report.refused_library.items())
        ],
    }
