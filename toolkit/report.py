"""Renderers of check results: text (``path:line: CODE message``), JSON and HTML (jinja2).

Pure functions from results to strings; the CLI decides where they go.
"""

from __future__ import annotations

import json
import statistics
from collections import Counter
from dataclasses import asdict
from io import StringIO
from pathlib import Path

from jinja2 import Environment, PackageLoader, select_autoescape
from rich.console import Console
from rich.table import Table

from toolkit.checker import RunResult
from toolkit.findings import SEVERITIES, Finding


def summary(result: RunResult) -> dict[str, object]:
    by_severity = Counter(f.severity for f in result.findings)
    chapters: list[dict[str, object]] = []
    for chapter in result.results:
        counts = Counter(f.severity for f in chapter.findings)
        chapters.append(
            {
                "edition": chapter.job.edition,
                "chapter": chapter.job.chapter,
                "path": _shown(chapter.job.translation),
                "basis": chapter.job.basis_id,
                **{severity: counts.get(severity, 0) for severity in SEVERITIES},
            }
        )
    median, most, where = per_chapter(result)
    return {
        "chapters_checked": len(result.results),
        "per_chapter": {"median": median, "most": most, "most_in": where},
        "editions": edition_summary(result),
        **{severity: by_severity.get(severity, 0) for severity in SEVERITIES},
        "by_code": dict(sorted(Counter(f.code for f in result.findings).items())),
        "chapters": chapters,
    }


def _shown(path: Path) -> str:
    """A path as a report shows it: from the working directory when it is under it."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def per_chapter(result: RunResult) -> tuple[float, int, str]:
    """The median number of findings per chapter, the most in one chapter and that chapter's
    path ("" when nothing was checked)."""
    counts = [(len(chapter.findings), _shown(chapter.job.translation)) for chapter in result.results]
    if not counts:
        return 0.0, 0, ""
    most = max(counts, key=lambda c: (c[0], c[1]))
    return statistics.median(c[0] for c in counts), most[0], most[1]


def finding_text(found: Finding, details: bool = True, verbose: bool = False) -> str:
    lines = [f"{found.location()}: {found.code} {found.message} [{found.severity}]"]
    if found.hint:
        lines.append(f"    hint: {found.hint}")
    if details and found.detail:
        lines.extend("    | " + line for line in found.detail.splitlines()[:20])
    if verbose:
        for item in found.items:
            first, *rest = item.splitlines()
            lines.append("    - " + first)
            lines.extend("      | " + line for line in rest[:20])
    return "\n".join(lines)


def edition_summary(result: RunResult) -> list[dict[str, object]]:
    """Per edition: chapters checked, errors, warnings, info, and chapters English moved on from."""
    chapters: Counter[str] = Counter()
    stale: Counter[str] = Counter()
    severities: dict[str, Counter[str]] = {}
    for chapter in result.results:
        edition = chapter.job.edition
        chapters[edition] += 1
        severities.setdefault(edition, Counter()).update(f.severity for f in chapter.findings)
        stale[edition] += any(f.code == "S001" for f in chapter.findings)
    return [
        {
            "edition": edition,
            "chapters": chapters[edition],
            **{severity: severities[edition][severity] for severity in SEVERITIES},
            "stale": stale[edition],
        }
        for edition in sorted(chapters)
    ]


def render_text(
    result: RunResult, details: bool = True, color: bool = False, width: int = 140, verbose: bool = False
) -> str:
    out = [finding_text(f, details, verbose) for f in result.findings]
    console = Console(
        file=StringIO(), width=width, force_terminal=color, color_system="auto" if color else None
    )
    if len(result.results) <= 40 or verbose:
        table = Table(title="check-alignment: findings per edition × chapter")
        for column in ("edition", "chapter", "basis", "errors", "warnings", "info"):
            table.add_column(column, justify="right" if column in ("errors", "warnings", "info") else "left")
        for row in summary(result)["chapters"]:  # type: ignore[attr-defined]
            table.add_row(
                row["edition"],
                row["chapter"],
                row["basis"],
                str(row["error"]),
                str(row["warning"]),
                str(row["info"]),
            )
        console.print(table)
    editions = Table(title="check-alignment: per edition")
    for column in ("edition", "chapters", "errors", "warnings", "info", "stale chapters"):
        editions.add_column(column, justify="left" if column == "edition" else "right")
    for row in edition_summary(result):
        editions.add_row(
            *(str(row[key]) for key in ("edition", "chapters", "error", "warning", "info", "stale"))
        )
    console.print(editions)
    totals = Counter(f.severity for f in result.findings)
    assert isinstance(console.file, StringIO)
    out.append(console.file.getvalue().rstrip())
    out.append(
        f"{len(result.results)} chapter(s) checked: {totals['error']} error(s), "
        f"{totals['warning']} warning(s), {totals['info']} info"
    )
    if len(result.results) > 1:
        median, most, where = per_chapter(result)
        out.append(f"findings per chapter: median {median:g}, most {most} ({where})")
    return "\n".join(out) + "\n"


SARIF_LEVELS = {"error": "error", "warning": "warning", "info": "note"}


def render_sarif(result: RunResult) -> str:
    """SARIF 2.1.0, one run, the rules with their documentation (code scanning UIs read it)."""
    from toolkit.checks import RULES

    used = sorted({f.code for f in result.findings})
    rules = [
        {
            "id": code,
            "name": RULES[code].name if code in RULES else code,
            "shortDescription": {"text": RULES[code].summary if code in RULES else code},
            "fullDescription": {"text": RULES[code].doc if code in RULES else code},
            "defaultConfiguration": {
                "level": SARIF_LEVELS[RULES[code].severity] if code in RULES else "warning"
            },
        }
        for code in used
    ]
    results = [
        {
            "ruleId": f.code,
            "ruleIndex": used.index(f.code),
            "level": SARIF_LEVELS[f.severity],
            "message": {"text": f.message + (f"\nhint: {f.hint}" if f.hint else "")},
            "locations": [
                {
                    "physicalLocation": {
                        "artifactLocation": {"uri": f.path},
                        "region": {"startLine": max(f.line, 1)},
                    }
                }
            ],
            "properties": {"edition": f.edition, "chapter": f.chapter, "items": list(f.items)},
        }
        for f in result.findings
    ]
    document = {
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {"name": "d2l-i18n toolkit", "informationUri": "https://d2l.ai", "rules": rules}
                },
                "results": results,
            }
        ],
    }
    return json.dumps(document, ensure_ascii=False, indent=2) + "\n"


def _escape_github(text: str, property_value: bool = False) -> str:
    text = text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    return text.replace(":", "%3A").replace(",", "%2C") if property_value else text


def render_github(result: RunResult) -> str:
    """GitHub Actions workflow commands: one annotation per finding on its file and line."""
    kinds = {"error": "error", "warning": "warning", "info": "notice"}
    lines = [
        f"::{kinds[f.severity]} file={_escape_github(f.path, True)},line={max(f.line, 1)},"
        f"title={_escape_github(f'{f.code} {f.name}', True)}::{_escape_github(f.message)}"
        for f in result.findings
    ]
    return "\n".join(lines) + ("\n" if lines else "")


def render_json(result: RunResult) -> str:
    findings = [{key: value for key, value in asdict(f).items()} for f in result.findings]
    return json.dumps({"findings": findings, "summary": summary(result)}, ensure_ascii=False, indent=2) + "\n"


def render_html(result: RunResult) -> str:
    environment = Environment(
        loader=PackageLoader("toolkit", "templates"), autoescape=select_autoescape(["html", "j2"])
    )
    template = environment.get_template("report.html.j2")
    return template.render(result=result, summary=summary(result), severities=SEVERITIES)
