"""gettext catalogs of one translated chapter: export, import and the round-trip report.

Invariants:
- The *skeleton* is the English revision the edition was translated from (its basis, named in
  the header ``X-D2L-Skeleton``). Every segment of the skeleton (see ``segments``) is one PO
  entry whose ``msgctxt`` is stable: the nearest heading's label (or its slug), the block kind
  and its ordinal in that section, and the segment's ordinal in the block.
- ``msgid`` is today's English for that segment; where English changed since the basis the
  entry is ``#, fuzzy`` with the basis English as ``#| msgid``. ``msgstr`` is the aligned
  translation, empty where the translation is missing or still in English.
- ``import_catalog(skeleton, catalog)`` writes the skeleton's frames with the catalog's
  words: structure, code, labels and tab blocks come from English, so drift cannot come back.
  An empty ``msgstr`` keeps the skeleton's English words.
- Round trip: ``import_catalog(basis, export_catalog(...))`` gives back the translated file
  byte for byte when every block aligns with the basis and differs from it only in words;
  ``round_trip_problems`` names every block where that does not hold, and why.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

import polib

from toolkit.align import Alignment, align_chapters
from toolkit.model import Attributes, Blank, Block, Chapter, CodeCell, Heading, Other, TabBlock, iter_blocks
from toolkit.po.segments import KIND_NAMES, Split, split_block

PLURAL_FORMS = {
    "ko": "nplurals=1; plural=0;",
    "id": "nplurals=1; plural=0;",
    "vi": "nplurals=1; plural=0;",
    "tr": "nplurals=2; plural=(n != 1);",
    "en": "nplurals=2; plural=(n != 1);",
}


@dataclass(frozen=True)
class Problem:
    """A block that cannot round-trip through the catalog."""

    line: int  # in the translated file (0 when the block exists only in English)
    english_line: int
    reason: str


@dataclass(frozen=True)
class Counts:
    translated: int
    fuzzy: int
    untranslated: int
    stale: int  # English blocks added since the basis, not in the edition at all

    @property
    def total(self) -> int:
        return self.translated + self.fuzzy + self.untranslated + self.stale

    @property
    def percent(self) -> float:
        return 100.0 * self.translated / self.total if self.total else 100.0


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:40] or "section"


def _leaves(chapter: Chapter) -> list[Block]:
    """Top-level blocks, with tab blocks opened up: the units that carry frames."""
    return [block for block, _ in iter_blocks(chapter.blocks) if not isinstance(block, TabBlock)]


def block_contexts(chapter: Chapter) -> dict[int, str]:
    """A stable context per translatable block (keyed by its first line)."""
    contexts: dict[int, str] = {}
    section = "top"
    ordinals: dict[str, int] = {}
    leaves = _leaves(chapter)
    for index, block in enumerate(leaves):
        kind = KIND_NAMES.get(type(block))
        if isinstance(block, Heading):
            label = ""
            if index + 1 < len(leaves) and isinstance(leaves[index + 1], Attributes):
                following = leaves[index + 1]
                assert isinstance(following, Attributes)
                label = next((r.target for r in following.roles if r.name == "label"), "")
            section = label or _slug(block.text)
            ordinals = {}
        if kind is None:
            continue
        ordinals[kind] = ordinals.get(kind, 0) + 1
        contexts[block.span.start] = f"{section}/{kind}{ordinals[kind]}"
    return contexts


def _structure(chapter: Chapter) -> list[Block]:
    return [b for b in _leaves(chapter) if not isinstance(b, (Blank, Other))]


def _paired(alignment: Alignment) -> dict[int, Block]:
    """English block first line -> the translated block that carries its words.

    When both chapters have the same sequence of block kinds, blocks pair by position: the
    structure itself is the strongest evidence, whatever the words. Otherwise the aligner
    pairs them (pins, then similarity)."""
    ours, theirs = _structure(alignment.en), _structure(alignment.tr)
    if [type(b) for b in ours] == [type(b) for b in theirs]:
        return {a.span.start: b for a, b in zip(ours, theirs, strict=True)}
    return {
        pair.en.block.span.start: pair.tr.block
        for pair in alignment.pairs
        if pair.en is not None and pair.tr is not None and type(pair.en.block) is type(pair.tr.block)
    }


def export_catalog(
    basis: Chapter,
    basis_tabs: tuple[str, ...],
    translation: Chapter,
    tabs: tuple[str, ...],
    language: str,
    today: Chapter | None = None,
    today_tabs: tuple[str, ...] = (),
    untranslated_lines: Iterable[int] = (),
    metadata: dict[str, str] | None = None,
) -> polib.POFile:
    untranslated = set(untranslated_lines)
    catalog = polib.POFile(wrapwidth=0)
    catalog.metadata = {
        "Project-Id-Version": "d2l",
        "Language": language,
        "MIME-Version": "1.0",
        "Content-Type": "text/plain; charset=UTF-8",
        "Content-Transfer-Encoding": "8bit",
        "PO-Revision-Date": "1970-01-01 00:00+0000",
        "Last-Translator": "",
        "Language-Team": language,
        "Plural-Forms": PLURAL_FORMS.get(language, "nplurals=2; plural=(n != 1);"),
        **(metadata or {}),
    }
    translated = _paired(align_chapters(basis, translation, basis_tabs, tabs))
    changed = (
        _paired(align_chapters(basis, today, basis_tabs, today_tabs, same_language=True)) if today else {}
    )
    contexts = block_contexts(basis)
    for block in _leaves(basis):
        context = contexts.get(block.span.start)
        if context is None:
            continue
        english = split_block(block)
        if not english.segments:
            continue
        theirs = translated.get(block.span.start)
        their_split = split_block(theirs) if theirs is not None else None
        usable = their_split is not None and their_split.frame == english.frame
        now = changed.get(block.span.start)
        now_split = split_block(now) if now is not None else None
        for position, segment in enumerate(english.segments):
            entry = polib.POEntry(msgctxt=f"{context}.{position + 1}", msgid=segment, msgstr="")
            entry.occurrences = [(basis.path, str(block.span.start))]
            if usable and their_split is not None and theirs is not None:
                # a block still in English stays out of the catalog: empty msgstr
                if theirs.span.start not in untranslated:
                    entry.msgstr = their_split.segments[position]
                entry.occurrences.append((translation.path, str(theirs.span.start)))
            if today is not None:
                if now_split is None or len(now_split.segments) != len(english.segments):
                    entry.flags.append("fuzzy")
                    entry.previous_msgid = segment
                    entry.comment = "English changed this block since the translation's basis"
                elif now_split.segments[position] != segment:
                    entry.previous_msgid = segment
                    entry.msgid = now_split.segments[position]
                    entry.flags.append("fuzzy")
            if isinstance(block, CodeCell):
                entry.comment = "a comment or docstring in a code cell"
            catalog.append(entry)
    if today is not None:
        _append_stale(catalog, basis, today, basis_tabs, today_tabs)
    return catalog


def _append_stale(
    catalog: polib.POFile,
    basis: Chapter,
    today: Chapter,
    basis_tabs: tuple[str, ...],
    today_tabs: tuple[str, ...],
) -> None:
    """English blocks added since the basis: obsolete-free entries a translator can fill in
    (import ignores them until the skeleton moves to today's English)."""
    alignment = align_chapters(basis, today, basis_tabs, today_tabs, same_language=True)
    added = [pair.tr.block for pair in alignment.pairs if pair.en is None and pair.tr is not None]
    for number, block in enumerate(added, start=1):
        for position, segment in enumerate(split_block(block).segments):
            if not segment.strip():
                continue
            entry = polib.POEntry(msgctxt=f"new/{number}.{position + 1}", msgid=segment, msgstr="")
            entry.occurrences = [(today.path, str(block.span.start))]
            entry.comment = "added in English since the translation's basis (stale)"
            catalog.append(entry)


def import_catalog(skeleton: Chapter, catalog: polib.POFile) -> str:
    """The translated chapter: the skeleton's frames with the catalog's words."""
    words = {entry.msgctxt: entry.msgstr for entry in catalog if entry.msgctxt and not entry.obsolete}
    contexts = block_contexts(skeleton)
    out: list[str] = []
    for block in _leaves(skeleton):
        context = contexts.get(block.span.start)
        split = split_block(block)
        if context is None or not split.segments:
            out.append(block.source if not isinstance(block, TabBlock) else "")
            continue
        chosen = tuple(words.get(f"{context}.{i + 1}") or segment for i, segment in enumerate(split.segments))
        out.append(split.join(chosen))
    return "".join(out)


def counts(catalog: polib.POFile) -> Counts:
    stale = sum(1 for e in catalog if e.msgctxt and e.msgctxt.startswith("new/"))
    fuzzy = sum(1 for e in catalog if "fuzzy" in e.flags and not (e.msgctxt or "").startswith("new/"))
    untranslated = sum(
        1
        for e in catalog
        if not e.msgstr and "fuzzy" not in e.flags and not (e.msgctxt or "").startswith("new/")
    )
    return Counts(len(catalog) - stale - fuzzy - untranslated, fuzzy, untranslated, stale)


def round_trip_problems(
    basis: Chapter,
    basis_tabs: tuple[str, ...],
    translation: Chapter,
    tabs: tuple[str, ...],
    rebuilt: str,
    untranslated_lines: Iterable[int] = (),
) -> list[Problem]:
    """Why ``rebuilt`` (the import of the exported catalog) differs from the translation."""
    if rebuilt == translation.text:
        return []
    untranslated = set(untranslated_lines)
    problems: list[Problem] = []
    if "\r\n" in translation.text:
        problems.append(Problem(1, 1, "CRLF line endings: the English skeleton has LF"))
    if translation.text.startswith("\ufeff"):
        problems.append(Problem(1, 1, "a byte-order mark: the English skeleton has none"))
    alignment = align_chapters(basis, translation, basis_tabs, tabs)
    for pair in alignment.pairs:
        en, tr = pair.en, pair.tr
        if en is None and tr is not None:
            problems.append(Problem(tr.block.span.start, 0, f"{_kind(tr.block)} has no English counterpart"))
        elif tr is None and en is not None:
            problems.append(Problem(0, en.block.span.start, f"English {_kind(en.block)} is missing here"))
        elif en is not None and tr is not None and not isinstance(en.block, TabBlock):
            mine, theirs = split_block(en.block), split_block(tr.block)
            if type(en.block) is not type(tr.block):
                problems.append(
                    Problem(
                        tr.block.span.start,
                        en.block.span.start,
                        f"{_kind(tr.block)} where English has {_kind(en.block)}",
                    )
                )
            elif mine.frame != theirs.frame:
                problems.append(
                    Problem(tr.block.span.start, en.block.span.start, _frame_reason(en.block, mine, theirs))
                )
            elif tr.block.span.start in untranslated and mine.segments != theirs.segments:
                problems.append(
                    Problem(
                        tr.block.span.start,
                        en.block.span.start,
                        "still in English but not the basis English: the catalog keeps no words for it",
                    )
                )
            elif pair.moved:
                problems.append(Problem(tr.block.span.start, en.block.span.start, f"{_kind(tr.block)} moved"))
    if not problems:
        problems.append(_first_difference(translation.text, rebuilt, basis, translation))
    return problems


def _kind(block: Block) -> str:
    names = {"CodeCell": "code cell", "ListBlock": "list", "TableCaption": "table caption"}
    name = type(block).__name__
    return names.get(name, name.lower())


def _frame_reason(block: Block, mine: Split, theirs: Split) -> str:
    if isinstance(block, CodeCell):
        return "code differs from English beyond comments and docstrings"
    if not mine.segments:
        return f"{_kind(block)} differs from English (it has no words to translate)"
    if len(mine.segments) != len(theirs.segments):
        return f"{_kind(block)} has {len(theirs.segments)} parts where English has {len(mine.segments)}"
    for ours, their in zip(mine.frame, theirs.frame, strict=True):
        if ours.strip() != their.strip():
            return f"{_kind(block)} markup differs: {ours.strip()!r} in English, {their.strip()!r} here"
        if ours != their:
            return f"{_kind(block)} spacing differs (blank lines or indentation): {ours!r} in English, {their!r} here"
    return f"{_kind(block)} markup differs"


def _first_difference(original: str, rebuilt: str, basis: Chapter, translation: Chapter) -> Problem:
    """Where the rebuilt file first departs from the translation, when no block explains it."""
    ours, theirs = rebuilt.splitlines(), original.splitlines()
    line = next(
        (i + 1 for i, (a, b) in enumerate(zip(ours, theirs, strict=False)) if a != b),
        min(len(ours), len(theirs)) + 1,
    )
    shown = theirs[line - 1] if line - 1 < len(theirs) else "(end of file)"
    kinds_en = [type(b).__name__ for b in basis.blocks if not isinstance(b, (Blank, Other))]
    kinds_tr = [type(b).__name__ for b in translation.blocks if not isinstance(b, (Blank, Other))]
    what = (
        "blank lines or spacing between blocks differ"
        if kinds_en == kinds_tr
        else "the block sequence differs"
    )
    return Problem(line, 0, f"{what} from English here: {shown.strip()[:60]!r}")
