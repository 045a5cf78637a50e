"""Parser diagnostics of the translated file, reported as findings."""

from __future__ import annotations

from collections.abc import Iterable

from toolkit.checks import RULES, CheckContext, Finding, declare, rule, with_severity

declare(
    "X001",
    "unclosed-code-fence",
    "error",
    """A code fence is never closed.

Why: everything after the opening ```` ``` ```` is read as code, so the rest of the chapter
disappears from the page and from every other check. A stray fence with nothing after it
(often the file's last line) only opens an empty code block: a warning that says so.""",
)
declare(
    "X002",
    "unbalanced-tab-block",
    "error",
    """:begin_tab: without :end_tab: (or the reverse).

Why: d2lbook hides or shows the wrong prose per framework.""",
)
declare("X003", "undecodable-file", "error", """The file is not valid UTF-8 text (or holds NUL bytes).""")
declare(
    "X004",
    "file-encoding-form",
    "warning",
    """BOM or CRLF line endings: d2l sources are UTF-8 without BOM, with LF.""",
)
declare(
    "X006",
    "control-character",
    "error",
    """The text holds control characters (other than tab and newline).

Why: they are invisible in editors and corrupt what they replace; ``\\beta`` written through
a tool that reads ``\\b`` as an escape becomes a backspace followed by ``eta``.""",
)
declare("X005", "empty-file", "warning", """The translated file is empty.""")


@rule("X000", "parse-diagnostics", "error")
def parse_diagnostics(context: CheckContext) -> Iterable[Finding]:
    """Reports what the parser met and recovered from in the translated file (X001-X005)."""
    for diagnostic in context.tr.diagnostics:
        spec = RULES[diagnostic.code]
        found = Finding(
            code=spec.code,
            name=spec.name,
            severity=spec.severity,
            path=context.tr.path,
            line=diagnostic.line,
            message=diagnostic.message,
            edition=context.edition,
            chapter=context.chapter,
        )
        yield with_severity(found, diagnostic.severity if diagnostic.severity != "error" else spec.severity)
