"""What runs: per chapter and framework, the sequence of cells one kernel executes.

Pure functions over the parsed model; no kernels here.

Invariants:
- A ``Program`` is the English cells of one framework (its tab's cells plus ``#@tab all``
  cells, in order), without d2lbook's set-up cell, run after a ``setup`` cell that selects the
  framework the way d2lbook's build does, each cell's ``if tab.selected(...)`` branches
  resolved as d2lbook writes a framework's notebook (``select_branches``), with
  the book's own ``d2l`` library of its revision (``library``). Its ``key`` hashes the
  *normalised* code of the sequence (comments and docstrings do not count), the framework,
  the set-up, the library's digest, the environment's lock hash and the device kind, so editing
  prose or a comment never re-runs anything, and two English revisions whose cells are the
  same code with the same library share one execution.
- A translated cell shares the output of the English cell it is aligned with when its
  normalised code and resolved tabs are equal. Otherwise it is *not executed* unless the
  translation is trusted, in which case the translation's own program (English cells with
  the translated code in place) runs under its own key.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

from toolkit.align import align_chapters
from toolkit.code import ALL_TABS, is_tooling_cell, normalise_code, resolved_tabs, select_branches
from toolkit.execute.library import Library
from toolkit.execute.results import Sharing
from toolkit.model import Chapter, CodeCell, HtmlBlock, iter_blocks


def setup_code(framework: str) -> str:
    """What runs before a program's cells, unseen: d2lbook's tab selection for the framework."""
    return f"%load_ext d2lbook.tab\ntab.select_tab({framework!r})"


@dataclass(frozen=True)
class ProgramCell:
    line: int  # where the cell starts in ``Program.path``
    code: str
    timeout: float | None  # a per-cell `timeout=S` attribute, else None


@dataclass(frozen=True)
class Program:
    path: str
    chapter: str
    framework: str
    cells: tuple[ProgramCell, ...]
    timeout: float | None  # a per-chapter `<!-- toolkit: timeout S -->`, else None
    library: Library | None = None  # the book's d2l library the cells import
    setup: str = ""  # run first, output not kept
    # the folders the cells' ``../img/...`` is made of, first wins: the book's own ``img/``, then
    # today's English ``img/`` (an edition's ``img/`` holds only the figures it redrew)
    image_dirs: tuple[str, ...] = ()

    @property
    def reads_images(self) -> bool:
        return any("../img" in cell.code for cell in self.cells)

    def code_fingerprint(self) -> str:
        digest = hashlib.sha256(self.framework.encode())
        digest.update(
            b"\0"
            + self.setup.encode()
            + b"\0"
            + (self.library.digest_for(self.framework) if self.library else "").encode()
        )
        for cell in self.cells:
            digest.update(b"\0" + normalise_code(cell.code).encode("utf-8", "surrogateescape"))
        return digest.hexdigest()

    def key(self, lock_hash: str, device: str) -> str:
        fields: list[object] = [
            self.code_fingerprint(),
            lock_hash,
            device,
            self.timeout,
            [c.timeout for c in self.cells],
        ]
        if self.reads_images:  # the book's figures are there (keys of other programs unchanged)
            fields.append("img: the edition's over English's")
        payload = json.dumps(fields)
        return hashlib.sha256(payload.encode()).hexdigest()[:32]


def cell_timeout(cell: CodeCell) -> float | None:
    for key, value in cell.attributes:
        if key == "timeout":
            try:
                return float(value)
            except ValueError:
                return None
    return None


def chapter_timeout(chapter: Chapter) -> float | None:
    for block, _ in iter_blocks(chapter.blocks):
        if isinstance(block, HtmlBlock) and block.timeout is not None:
            return block.timeout
    return None


def executable_cells(chapter: Chapter, tabs: tuple[str, ...], framework: str) -> list[CodeCell]:
    cells = []
    for block, _ in iter_blocks(chapter.blocks):
        if isinstance(block, CodeCell) and block.executable and not is_tooling_cell(block.code):
            belongs = resolved_tabs(block, tabs)
            if framework in belongs or ALL_TABS in belongs:
                cells.append(block)
    return cells


def chapter_program(
    chapter: Chapter,
    chapter_name: str,
    tabs: tuple[str, ...],
    framework: str,
    library: Library | None = None,
    image_dirs: tuple[str, ...] = (),
) -> Program | None:
    """The English program of one framework, or None when the chapter has no cell for it."""
    cells = executable_cells(chapter, tabs, framework)
    if not any(framework in resolved_tabs(c, tabs) for c in cells):
        return None  # only `#@tab all` cells (or none): nothing framework-specific to run
    return Program(
        path=chapter.path,
        chapter=chapter_name,
        framework=framework,
        cells=tuple(
            ProgramCell(c.span.start, select_branches(c.code, framework), cell_timeout(c)) for c in cells
        ),
        timeout=chapter_timeout(chapter),
        library=library,
        setup=setup_code(framework),
        image_dirs=image_dirs,
    )


@dataclass(frozen=True)
class SharedCell:
    """How one translated cell gets its output for one framework."""

    line: int  # the translated cell's line
    framework: str
    english_line: int | None  # the English cell whose output it shows
    status: Sharing  # "shared", "differs" (not executed), "extra" (no English counterpart), "own"
    index: int | None  # position of the cell in the program that produced its output


def share_translation(
    english: Chapter,
    english_tabs: tuple[str, ...],
    translation: Chapter,
    tabs: tuple[str, ...],
    program: Program,
) -> tuple[list[SharedCell], list[tuple[int, str]]]:
    """Map each translated cell of ``program.framework`` onto the English program.

    Returns the mapping and the replacements a trusted run would make: (index in the
    program, translated code) for each cell whose code differs.
    """
    framework = program.framework
    index_of_line = {cell.line: i for i, cell in enumerate(program.cells)}
    alignment = align_chapters(english, translation, english_tabs, tabs)
    shared: list[SharedCell] = []
    replacements: list[tuple[int, str]] = []
    for pair in alignment.pairs:
        tr = pair.tr.block if pair.tr is not None else None
        en = pair.en.block if pair.en is not None else None
        if not (isinstance(tr, CodeCell) and tr.executable) or is_tooling_cell(tr.code):
            continue
        belongs = resolved_tabs(tr, tabs)
        if framework not in belongs and ALL_TABS not in belongs:
            continue
        if not isinstance(en, CodeCell) or en.span.start not in index_of_line:
            shared.append(SharedCell(tr.span.start, framework, None, "extra", None))
            continue
        index = index_of_line[en.span.start]
        same = (
            normalise_code(en.code) == normalise_code(tr.code) and resolved_tabs(en, english_tabs) == belongs
        )
        if same:
            shared.append(SharedCell(tr.span.start, framework, en.span.start, "shared", index))
        else:
            shared.append(SharedCell(tr.span.start, framework, en.span.start, "differs", index))
            replacements.append((index, tr.code))
    return shared, replacements


def translated_program(
    program: Program, translation: Chapter, replacements: list[tuple[int, str]]
) -> Program:
    cells = list(program.cells)
    for index, code in replacements:
        cells[index] = ProgramCell(
            cells[index].line, select_branches(code, program.framework), cells[index].timeout
        )
    return Program(
        translation.path,
        program.chapter,
        program.framework,
        tuple(cells),
        program.timeout,
        program.library,
        program.setup,
        program.image_dirs,
    )
