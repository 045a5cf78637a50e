"""Jupyter notebooks to download: one per chapter, language and framework (pure).

Invariants: a notebook holds the chapter as its language shows it — the prose as Markdown
cells (``:begin_tab:`` prose only for its framework), the framework's code cells (its tab and
``#@tab all``) with the outputs ``toolkit run-cells`` stored for that cell — and nothing is
executed here. Written with nbformat (v4), so Jupyter opens them as they are; the same chapter
always gives the same bytes (cells are numbered, not given random ids).
"""

from __future__ import annotations

from collections.abc import Mapping

from toolkit.code import ALL_TABS, resolved_tabs
from toolkit.model import Blank, Chapter, CodeCell, Other, TabBlock
from toolkit.site.lower import CellOutputs


def notebook_frameworks(chapter: Chapter, tabs: tuple[str, ...]) -> list[str]:
    """The frameworks the chapter has code for, in the edition's tab order."""
    found: set[str] = set()
    for block in chapter.blocks:
        if isinstance(block, CodeCell) and block.executable:
            cell_tabs = resolved_tabs(block, tabs)
            found |= set(tabs) if ALL_TABS in cell_tabs else set(cell_tabs)
    return [tab for tab in tabs if tab in found]


def chapter_notebook(
    chapter: Chapter,
    framework: str,
    tabs: tuple[str, ...],
    outputs: Mapping[tuple[int, str], CellOutputs],
    language: str,
) -> str:
    import nbformat

    cells = []
    prose: list[str] = []

    def flush() -> None:
        text = "".join(prose).strip("\n")
        if text:
            cells.append(nbformat.v4.new_markdown_cell(text))  # type: ignore[no-untyped-call]
        prose.clear()

    for block in chapter.blocks:
        if isinstance(block, CodeCell) and block.executable:
            cell_tabs = resolved_tabs(block, tabs)
            if ALL_TABS not in cell_tabs and framework not in cell_tabs:
                continue
            flush()
            stored = outputs.get((block.span.start, framework))
            results = (
                [nbformat.from_dict(o) for o in stored.outputs]  # type: ignore[no-untyped-call]
                if stored and stored.status != "not-executed"
                else []
            )
            cells.append(nbformat.v4.new_code_cell(block.code.rstrip("\n"), outputs=results))  # type: ignore[no-untyped-call]
        elif isinstance(block, TabBlock):
            if framework in block.tabs:
                prose.extend(
                    child.source
                    for child in block.children
                    if not (isinstance(child, Other) and child.kind in ("begin_tab", "end_tab"))
                )
        elif not isinstance(block, Blank) or prose:
            prose.append(block.source)
    flush()
    # nbformat gives each new cell a random id: numbered instead, so the same chapter always
    # makes the same notebook (reproducible sites; `mkdocs serve` rewrites only changed files)
    for index, cell in enumerate(cells):
        cell["id"] = f"cell-{index}"
    notebook = nbformat.v4.new_notebook(cells=cells)  # type: ignore[no-untyped-call]
    notebook.metadata.update(
        {"language_info": {"name": "python"}, "d2l": {"framework": framework, "language": language}}
    )
    # nbformat.writes validates against the schema on every call (≈10 ms): what new_notebook and
    # new_code_cell build is valid by construction, so the v4 JSON writer alone serves
    from nbformat.v4.nbjson import writes

    return str(writes(notebook))  # type: ignore[no-untyped-call]
