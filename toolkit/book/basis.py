"""Which English each translated file was made from, and where its chapter lives today.

Invariants:
- A translated chapter file is ``index.md`` or a markdown file under ``chapter_*/``; the
  English snapshots d2lbook's translation workflow keeps beside them (``x_origin.md``) are
  bases, never chapters.
- A file's basis is its ``x_origin.md`` where the edition keeps one (ko, tr, vi), otherwise
  the English revision the edition declares (``basis`` in edition.toml: for the editions forked
  from today's English, that fork). A file with neither has no basis and is reported, not
  guessed.
- Today's English of a chapter is found by what survives English's moves, not by its path
  alone: the v0.17 editions keep a layout today's English renamed and split
  (``chapter_linear-networks/`` -> ``chapter_linear-regression/``). The evidence, strongest
  first: the same path; the section label (the file's first label) as today's section label;
  English's own renames (a version of the file's path that English's history has at another
  path: git's exact renames); the section label elsewhere in today's chapter; a file name only
  one of today's chapters has; other shared labels. A chapter with none of these goes to the
  chapter of today's English that shares clearly the most lines with it (``SIMILAR_AT`` and
  twice the next), among those in the part its neighbours went to and claimed by no other. A
  part's ``index.md`` goes where most of its chapters went.
- The mapping is one to one within an edition: two of its chapters never claim the same
  chapter of today's English (the stronger evidence wins; the other has none), so the
  language switcher leads both ways to the same pages.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
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


def english_index(root: Path, labels_of: Callable[[Path], list[str]]) -> EnglishIndex:
    by_label: dict[str, str] = {}
    chapters = []
    for path in chapter_files(root):
        chapter = str(path.relative_to(root))
        chapters.append(chapter)
        for label in labels_of(path):
            by_label.setdefault(label, chapter)
    return EnglishIndex(root, frozenset(chapters), by_label)


#: The weight of each kind of evidence that a translated chapter is one of today's.
SAME_PATH, SECTION_LABEL, RENAMED, LABEL_INSIDE, UNIQUE_NAME, SHARED_LABEL = 8, 6, 5, 3, 2, 1


#: The least share of lines (of the smaller file) a chapter found by its content shares.
SIMILAR_AT = 0.05


def shared_lines(a: str, b: str) -> float:
    """The share of the smaller text's lines (of 20 characters or more, stripped) the other
    also has: code and sentences English kept when it moved or rewrote a chapter."""
    first, second = _lines(a), _lines(b)
    return len(first & second) / max(1, min(len(first), len(second)))


def _lines(text: str) -> frozenset[str]:
    return frozenset(line.strip() for line in text.splitlines() if len(line.strip()) >= 20)


def map_to_today(
    chapters: dict[str, list[str]],
    index: EnglishIndex,
    today_labels: Callable[[str], list[str]],
    renamed: Callable[[str], frozenset[str]] = lambda _: frozenset(),
    similarity: Callable[[str, str], float] | None = None,
) -> dict[str, str | None]:
    """Today's English chapter for each of one edition's chapters (path -> labels in order),
    one to one (see the module's invariants); None where nothing points anywhere."""
    names = Counter(Path(chapter).name for chapter in index.chapters)
    # a name held by one chapter of today's English names that chapter (read once, not per chapter)
    unique = {Path(c).name: c for c in index.chapters if names[Path(c).name] == 1}
    scores: dict[tuple[str, str], int] = {}

    def add(chapter: str, today: str, weight: int) -> None:
        scores[(chapter, today)] = scores.get((chapter, today), 0) + weight

    for chapter, labels in chapters.items():
        if Path(chapter).name == "index.md":
            continue  # a part: where its chapters go (below)
        if chapter in index.chapters:
            add(chapter, chapter, SAME_PATH)
        if labels and labels[0] in index.by_label:
            today = index.by_label[labels[0]]
            first = today_labels(today)[:1]
            add(chapter, today, SECTION_LABEL if first == labels[:1] else LABEL_INSIDE)
        for today in renamed(chapter) & index.chapters:
            add(chapter, today, RENAMED)
        if (only := unique.get(Path(chapter).name)) is not None:
            add(chapter, only, UNIQUE_NAME)
        shared = Counter(index.by_label[label] for label in labels[1:] if label in index.by_label)
        for today, count in shared.items():
            add(chapter, today, SHARED_LABEL * min(count, 3))
    mapped: dict[str, str | None] = dict.fromkeys(chapters)
    claimed: set[str] = set()
    for (chapter, today), score in sorted(scores.items(), key=lambda item: (-item[1], item[0])):
        if score and chapter in mapped and mapped[chapter] is None and today not in claimed:
            mapped[chapter] = today
            claimed.add(today)
    if similarity is not None:
        for chapter, found in list(mapped.items()):
            if found is not None or Path(chapter).name == "index.md":
                continue
            went = _parts_went(mapped, str(Path(chapter).parent))
            pool = [
                t
                for t in sorted(index.chapters)
                if t not in claimed
                and Path(t).name != "index.md"
                and (not went or str(Path(t).parent) == went.most_common(1)[0][0])
            ]
            ranked = sorted(((similarity(chapter, t), t) for t in pool), reverse=True)
            if (
                ranked
                and ranked[0][0] >= SIMILAR_AT
                and (len(ranked) == 1 or ranked[0][0] >= 2 * ranked[1][0])
            ):
                mapped[chapter] = ranked[0][1]
                claimed.add(ranked[0][1])
    for chapter in chapters:
        if chapter == "index.md":  # the book's own index
            mapped[chapter] = chapter if chapter in index.chapters else None
            continue
        if Path(chapter).name != "index.md":
            continue
        went = _parts_went(mapped, str(Path(chapter).parent))
        part = f"{went.most_common(1)[0][0]}/index.md" if went else chapter
        if part in index.chapters and part not in claimed:
            mapped[chapter] = part
            claimed.add(part)
    return mapped


def _parts_went(mapped: dict[str, str | None], folder: str) -> Counter[str]:
    """How many of the chapters in ``folder`` went to each of today's parts."""
    return Counter(
        str(Path(today).parent)
        for inside, today in mapped.items()
        if today is not None and str(Path(inside).parent) == folder and Path(inside).name != "index.md"
    )
