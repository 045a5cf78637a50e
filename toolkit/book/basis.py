"""Which English each translated file was made from, and where its chapter lives today.

Invariants:
- A translated chapter file is ``index.md`` or a markdown file under ``chapter_*/``; the
  English snapshots d2lbook's translation workflow keeps beside them (``x_origin.md``) are
  bases, never chapters.
- A file's basis is its ``x_origin.md`` where the edition keeps one (ko, tr, vi), otherwise
  the English revision the edition declares (``basis`` in edition.toml: for the editions forked
  from today's English, that fork). A file with neither has no basis and is reported, not
  guessed.
- Today's English of a chapter is found by its labels, not its path: the v0.17 editions keep
  a layout today's English renamed and split (``chapter_linear-networks/`` ->
  ``chapter_linear-regression/``), and labels (``sec_linear_regression``) survive such moves.
  The section label (the first label of the file) decides; else the English chapter that holds
  most of the file's labels; else the same path; else there is none.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

ORIGIN_SUFFIX = "_origin.md"


def is_origin(path: Path | str) -> bool:
    return str(path).endswith(ORIGIN_SUFFIX)


def chapter_files(directory: Path) -> list[Path]:
    """The translated (or English) chapter files of a book directory, sorted."""
    index = directory / "index.md"
    found = [index] if index.is_file() and not index.is_symlink() else []
    for folder in sorted(directory.glob("chapter_*")):
        if folder.is_dir() and not folder.is_symlink():
            # a link is no chapter: it may point anywhere on the machine
            found.extend(
                p
                for p in sorted(folder.rglob("*.md"))
                if p.is_file() and not p.is_symlink() and not is_origin(p)
            )
    return found


def origin_of(path: Path) -> Path:
    return path.with_name(path.name[: -len(".md")] + ORIGIN_SUFFIX)


@dataclass(frozen=True)
class EnglishIndex:
    """Every label of today's English, with the chapter (path relative to the book) defining it."""

    root: Path
    chapters: frozenset[str]
    by_label: dict[str, str]

    def locate(self, chapter: str, labels: Iterable[str]) -> str | None:
        """Today's English chapter for a file with these labels (its own path as fallback)."""
        ordered = list(labels)
        if ordered and ordered[0] in self.by_label:
            return self.by_label[ordered[0]]
        votes = Counter(self.by_label[label] for label in ordered if label in self.by_label)
        if votes:
            return votes.most_common(1)[0][0]
        return chapter if chapter in self.chapters else None


def english_index(root: Path, labels_of: Callable[[Path], list[str]]) -> EnglishIndex:
    by_label: dict[str, str] = {}
    chapters = []
    for path in chapter_files(root):
        chapter = str(path.relative_to(root))
        chapters.append(chapter)
        for label in labels_of(path):
            by_label.setdefault(label, chapter)
    return EnglishIndex(root, frozenset(chapters), by_label)
