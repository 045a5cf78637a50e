"""The book's structure from d2lbook's own ```` ```toc ```` blocks: order, parts and numbers.

Invariants:
- The root ``index.md`` lists the chapters in ``toc`` blocks; a block with ``:numbered:``
  numbers its chapters 1, 2, … in order (across blocks), the others (front matter:
  preface, installation, notation; the references) are unnumbered. Each chapter's
  ``index.md`` lists its sections in its own ``toc`` blocks, relative to the chapter's
  directory; a section of chapter 13 is 13.1, 13.2, …
- This is the one numbering: the site's pages, references and status page all read it
  (d2l.ai's numbers for English: ``hybridize`` is 13.1). An entry whose file is missing is
  skipped, and so is one that leaves the book (an absolute path, ``..``, a link, anything but
  ``index.md`` or ``chapter_*/…``); a chapter no toc lists is left to the caller.
- Read with the one parser: a ``toc`` block is a fenced code block whose info is ``toc``.
"""

from __future__ import annotations

import posixpath
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from toolkit.model import Chapter, CodeCell, iter_blocks


@dataclass(frozen=True)
class TocEntry:
    chapter: str  # path relative to the book root, e.g. "chapter_x/hybridize.md"
    number: str  # "13.1", "13", or "" for unnumbered front and back matter
    parent: str  # the chapter's index.md for a section, "" for a chapter


def _toc_blocks(chapter: Chapter) -> list[tuple[bool, list[str]]]:
    """(numbered, entries) of each ``toc`` block, in order."""
    found = []
    for block, _ in iter_blocks(chapter.blocks):
        if isinstance(block, CodeCell) and block.language == "toc":
            lines = [line.strip() for line in block.code.splitlines() if line.strip()]
            options = {line.split(":")[1] for line in lines if line.startswith(":") and line.count(":") >= 2}
            entries = [line for line in lines if not line.startswith(":")]
            found.append(("numbered" in options, entries))
    return found


def _in_book(root: Path, path: str) -> bool:
    """Whether a toc entry names a chapter file of this book: relative, inside ``root`` (no
    ``..``, no absolute path, no link out), ``index.md`` or under ``chapter_*/``. A toc is an
    edition's text: it must never publish a file from elsewhere on the machine."""
    if posixpath.isabs(path) or path.startswith("..") or "\\" in path:
        return False
    if path != "index.md" and not (path.startswith("chapter_") and "/" in path):
        return False
    target = root / path
    if not target.is_file() or target.is_symlink():
        return False
    return root.resolve() in target.resolve().parents


def book_toc(root: Path, parse: Callable[[Path], Chapter]) -> list[TocEntry]:
    """Every chapter and section the book's toc blocks list, in reading order."""
    index = root / "index.md"
    if not index.is_file():
        return []
    entries: list[TocEntry] = []
    counter = 0
    for numbered, chapters in _toc_blocks(parse(index)):
        for name in chapters:
            path = posixpath.normpath(name if name.endswith(".md") else name + ".md")
            if not _in_book(root, path):
                continue
            if numbered:
                counter += 1
            number = str(counter) if numbered else ""
            entries.append(TocEntry(path, number, ""))
            if not path.endswith("index.md"):
                continue
            directory = posixpath.dirname(path)
            position = 0
            for _, sections in _toc_blocks(parse(root / path)):
                for section in sections:
                    section_path = posixpath.normpath(
                        posixpath.join(directory, section if section.endswith(".md") else section + ".md")
                    )
                    if not _in_book(root, section_path):
                        continue
                    position += 1
                    entries.append(TocEntry(section_path, f"{number}.{position}" if numbered else "", path))
    return entries
