"""Renderers of check results: text (``path:line: CODE message``), JSON and HTML (jinja2).

Pure functions from results to strings; the CLI decides where they go.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import asdict
from io import StringIO

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
                "path": str(chapter.job.translation),
                "basis": chapter.job.basis_id,
                **{severity: counts.get(severity, 0) for severity in SEVERITIES},
            }
        )
    return {
        "chapters_checked": len(result.results),
        **{severity: by_severity.get(severity, 0) for severity in SEVERITIES},
        "by_code": dict(sorted(Counter(f.code for f in result.findings).items())),
        "chapters": chapters,
    }


def finding_text(found: Finding, details: bool = True) -> str:
    lines = [f"{found.location()}: {found.code} {found.message} [{found.severity}]"]
    if found.hint:
        lines.append(f"    hint: {found.hint}")
    if details and found.detail:
        lines.extend("    | " + line for line in found.detail.splitlines()[:20])
    return "\n".join(lines)


def render_text(result: RunResult, details: bool = True, color: bool = False, width: int = 140) -> str:
    out = [finding_text(f, details) for f in result.findings]
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
    buffer = StringIO()
    Console(file=buffer, width=width, force_terminal=color, color_system="auto" if color else None).print(
        table
    )
    totals = Counter(f.severity for f in result.findings)
    out.append(buffer.getvalue().rstrip())
    out.append(
        f"{len(result.results)} chapter(s) checked: {totals['error']} error(s), "
        f"{totals['warning']} warning(s), {totals['info']} info"
    )
    return "\n".join(out) + "\n"


def render_json(result: RunResult) -> str:
    findings = [{key: value for key, value in asdict(f).items()} for f in result.findings]
    return json.dumps({"findings": findings, "summary": summary(result)}, ensure_ascii=False, indent=2) + "\n"


def render_html(result: RunResult) -> str:
    environment = Environment(
        loader=PackageLoader("toolkit", "templates"), autoescape=select_autoescape(["html", "j2"])
    )
    template = environment.get_template("report.html.j2")
    return template.render(result=result, summary=summary(result), severities=SEVERITIES)
