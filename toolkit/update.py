"""``toolkit update``: carry every translation forward onto today's English, block by block.

A translated file ``T`` was made from its basis ``B`` (its ``x_origin.md``, or English at the
edition's basis revision); today's English chapter ``E`` is found by labels (the checker's
mapping, ``ChapterJob.today``). Two alignments, both the checker's (``B``↔``T`` and ``B``↔``E``),
say for each block of ``E`` which translated block, if any, was made from its older English.

Invariants:
- Structure comes from ``E``: blank lines, attribute lines (labels), code cells, equations,
  raw HTML and tab markers are ``E``'s bytes. A code cell keeps the translation's comments and
  docstrings where its code equals ``E``'s modulo comments (``normalise_code``).
- A prose block of ``E`` gets, in this order: the translation of the same English (``exact``,
  byte for byte); the translation of its older English (``fuzzy``); a translation of the same
  English elsewhere in the edition, a block that moved between chapters (``exact``); a
  translation of similar English from the translation memory — the edition's other files and
  another edition of the same language (``memory``, fuzzy); else ``E``'s English (``english``).
- The updated file's ``x_origin.md`` holds, block for block, the English each block was made
  from: ``E``'s own for exact, English and structural blocks, the older English for fuzzy and
  memory blocks. So check-alignment's staleness afterwards (S001) reports exactly the fuzzy
  and memory blocks, and P001 exactly the English ones; a translator marks a fuzzy block done
  by putting today's English block into ``x_origin.md`` (``toolkit update --accept``).
- No translated text is lost: every translated prose block of an old file is placed in an
  updated file, or listed as retired (``Retired``, written to the edition's
  ``obsolete.jsonl`` with its old ``path:line``).
- Idempotent: a file written by an update is paired with its ``x_origin.md`` block by block,
  so updating again reproduces every byte.
- The carrying itself (``update_chapter``, ``update_edition``) is pure; ``plan_update`` reads
  the project and ``apply_writes`` alone writes.
"""

from __future__ import annotations

import bisect
import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from functools import cached_property
from pathlib import Path
from typing import Literal

from toolkit.align import Alignment, Unit, align_chapters, make_units
from toolkit.book.basis import ORIGIN_SUFFIX, chapter_files
from toolkit.cache import write_text_atomic
from toolkit.checker import ChapterJob, ChapterStore, project_jobs
from toolkit.code import normalise_code
from toolkit.config import ConfigError, Edition, Lock, ProjectConfig, Revision
from toolkit.model import (
    DEFINING_ROLES,
    PROSE_TYPES,
    Blank,
    Block,
    Chapter,
    CodeCell,
    Figure,
    Heading,
    TabBlock,
    block_inline,
    block_roles,
    iter_blocks,
)
from toolkit.parser import parse_chapter
from toolkit.tex import all_math, math_key, repaired_tex, spaceless_tex, tex_problem, tex_shape

Kind = Literal["exact", "fuzzy", "memory", "english", "structure"]
KINDS: tuple[Kind, ...] = ("exact", "fuzzy", "memory", "english")
OBSOLETE_NAME = "obsolete.jsonl"  # an edition's retired translations, one JSON record a line
#: rapidfuzz's ratio (0..100) above which another block's English counts as this one's
MEMORY_THRESHOLD = 85.0


def words(text: str) -> str:
    """A block's text as English changes are judged (re-wrapped lines are no change)."""
    return " ".join(text.split())


@dataclass(frozen=True)
class MemoryEntry:
    english: str  # the English block the translation was made from
    translation: str  # the translated block's source
    where: str  # "translations/ko/chapter_x/y.md:12"
    edition: str
    block: Block = field(compare=False)  # the translated block
    english_block: Block = field(compare=False)  # the English block it was made from


def intact(english: Block, translation: Block) -> bool:
    """Whether a translated block keeps what its English block's markup says: the same math,
    the same roles (labels, references, citations) and no control characters a tool left
    (a doubled backslash, ``\\b`` read as a backspace). Only an intact block is carried
    onto other English: a damaged one would bring its damage (E005, L003, M005) along."""
    if any(ord(c) < 32 and c not in "\n\t" for c in translation.source):
        return False
    if "\t" in translation.source and "\t" not in english.source:
        return False
    if swallowed(english, translation):
        return False
    en_facts, tr_facts = block_inline(english), block_inline(translation)
    if en_facts is not None and tr_facts is not None:
        if [words(m) for m in en_facts.math] != [words(m) for m in tr_facts.math]:
            return False
        if sorted((r.name, r.target) for r in en_facts.roles) != sorted(
            (r.name, r.target) for r in tr_facts.roles
        ):
            return False
    return True


def swallowed(english: Block, translation: Block) -> bool:
    """A translated heading that holds the paragraph after it (H003: a lost line break). It
    is never carried: the updated chapter would keep a paragraph rendered as a heading, and
    the paragraph's place in English would be empty; it is retired (nothing is lost)."""
    from toolkit.checks.content import SWALLOWED_LENGTH, SWALLOWED_RATIO

    return (
        isinstance(english, Heading)
        and isinstance(translation, Heading)
        and len(translation.text) > SWALLOWED_RATIO * max(len(english.text), 1)
        and len(translation.text) > SWALLOWED_LENGTH
    )


class TranslationMemory:
    """Translated blocks by the English they were made from: exact by words, similar by
    rapidfuzz's ratio among blocks of the same kind."""

    def __init__(self) -> None:
        self._exact: dict[tuple[str, str], list[MemoryEntry]] = {}
        self._by_kind: dict[str, list[tuple[str, MemoryEntry]]] = {}
        self._sorted = True
        self._lengths: dict[str, list[int]] = {}

    def add(self, kind: str, entry: MemoryEntry) -> None:
        key = words(entry.english)
        same = self._exact.setdefault((kind, key), [])
        if any(e.translation == entry.translation and e.edition == entry.edition for e in same):
            return  # the same words for the same English, wherever they lie now: one entry
        same.append(entry)
        self._by_kind.setdefault(kind, []).append((key, entry))
        self._sorted = False

    def _ordered(self, kind: str) -> list[tuple[str, MemoryEntry]]:
        """A kind's entries in an order independent of the files' paths and lines, so a
        suggestion does not change when an update moved the blocks it comes from."""
        if not self._sorted:
            for each, entries in self._by_kind.items():
                entries.sort(key=lambda item: (len(item[0]), item[0], item[1].translation, item[1].edition))
                self._lengths[each] = [len(key) for key, _ in entries]
            for same in self._exact.values():
                same.sort(key=lambda e: (e.translation, e.where))
            self._sorted = True
        return self._by_kind.get(kind, [])

    def exact(self, kind: str, english: str, edition: str) -> MemoryEntry | None:
        """The first entry of ``edition`` made from exactly this English."""
        self._ordered(kind)
        return next((e for e in self._exact.get((kind, words(english)), []) if e.edition == edition), None)

    def similar(self, kind: str, english: str, editions: Iterable[str], limit: int = 3) -> list[MemoryEntry]:
        """The entries of ``editions`` whose English is most like this block's, above the
        threshold, best first (exact ones of another edition included), at most ``limit``
        with different words."""
        from rapidfuzz import fuzz, process

        wanted = set(editions)
        text = words(english)
        # a ratio of MEMORY_THRESHOLD needs lengths within a factor: only those are compared
        ordered = self._ordered(kind)
        lengths = self._lengths.get(kind, [])
        factor = (MEMORY_THRESHOLD / 100) / (2 - MEMORY_THRESHOLD / 100)
        low = bisect.bisect_left(lengths, int(len(text) * factor))
        high = bisect.bisect_right(lengths, int(len(text) / factor) + 1)
        candidates = [(key, entry) for key, entry in ordered[low:high] if entry.edition in wanted]
        if not candidates:
            return []
        found = process.extract(
            text,
            [key for key, _ in candidates],
            scorer=fuzz.ratio,
            score_cutoff=MEMORY_THRESHOLD,
            limit=limit * 3,
        )
        best: dict[str, MemoryEntry] = {}
        for _, _, index in sorted(found, key=lambda item: (-item[1], item[2])):
            entry = candidates[index][1]
            best.setdefault(entry.translation, entry)
        return list(best.values())[:limit]


@dataclass(frozen=True)
class Placed:
    """What one block of today's English holds in the updated file."""

    kind: Kind
    line: int  # the English block's line in today's chapter
    text: str  # the block's source in the updated translation
    origin: str  # the English it was made from (its block in the new x_origin.md)
    came_from: str = ""  # "translations/ko/…/x.md:12", "memory: translations/ko-partrita/…:40"


@dataclass(frozen=True)
class Retired:
    """A translated block whose English left the book."""

    path: str
    line: int
    text: str
    english: str  # the English it was made from
    chapter: str = ""  # today's chapter its old file maps to: whose PO catalog shows it as ``#~``

    def to_json(self) -> dict[str, object]:
        record: dict[str, object] = {"path": self.path, "line": self.line, "text": self.text, "english": self.english}
        if self.chapter:
            record["chapter"] = self.chapter
        return record

    @classmethod
    def from_json(cls, record: dict[str, object]) -> Retired:
        line = record.get("line")
        return cls(
            str(record.get("path", "")),
            line if isinstance(line, int) else 0,
            str(record.get("text", "")),
            str(record.get("english", "")),
            str(record.get("chapter", "")),
        )


def read_retired(path: Path) -> list[Retired]:
    """The records of an edition's ``obsolete.jsonl`` (none when it has none). A line that is
    no JSON object is skipped: the file is a contributor's too, and only ever shown."""
    if not path.is_file():
        return []
    found = []
    for line in path.read_text("utf-8").splitlines():
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if isinstance(record, dict):
            found.append(Retired.from_json(record))
    return found


@dataclass(frozen=True)
class OldFile:
    """A translated file and the English it was made from, as update reads them."""

    chapter: str  # path in the edition, e.g. "chapter_linear-networks/linear-regression.md"
    shown: str  # path for people, relative to the project
    translation: Chapter
    tabs: tuple[str, ...]
    basis: Chapter | None
    basis_tabs: tuple[str, ...]
    today: str  # today's English chapter it maps to ("" when English has none)

    @cached_property
    def translated(self) -> list[tuple[Block | None, Block]]:
        """``translated_blocks`` of this file, computed once (a frozen dataclass keeps it in
        its ``__dict__``; it is no field: equality and the fields stay as they are)."""
        return _translated_blocks(self)

    @classmethod
    def of_job(cls, job: ChapterJob, store: ChapterStore) -> OldFile:
        """The checker's job for a translated file, read as update reads it."""
        return cls(
            job.chapter,
            store.display(job.translation),
            store.get(job.translation),
            job.tabs,
            store.get(job.basis) if job.basis is not None else None,
            job.basis_tabs,
            job.today_chapter if job.today is not None else "",
        )


@dataclass(frozen=True)
class UpdatedFile:
    chapter: str  # today's path of the chapter in the edition
    text: str
    origin: str  # the new x_origin.md
    placed: tuple[Placed, ...]
    replaces: tuple[str, ...]  # the old files it is made from


@dataclass
class EditionUpdate:
    edition: str
    files: list[UpdatedFile] = field(default_factory=list)
    retired: list[Retired] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)  # old chapters no updated file keeps

    def counts(self) -> dict[str, int]:
        counted: dict[str, int] = dict.fromkeys(KINDS, 0)
        for file in self.files:
            for placed in file.placed:
                if placed.kind != "structure":
                    counted[placed.kind] += 1
        return {**counted, "retired": len(self.retired)}


def _is_prose(block: Block) -> bool:
    return isinstance(block, PROSE_TYPES)


def _kind_key(block: Block) -> str:
    if isinstance(block, Heading):
        return f"Heading{block.level}"
    return type(block).__name__


def _pairs(alignment: Alignment) -> dict[int, Block]:
    """English unit index -> the other side's block, for the prose both sides have."""
    return {
        pair.en.index: pair.tr.block
        for pair in alignment.pairs
        if pair.en is not None and pair.tr is not None and type(pair.en.block) is type(pair.tr.block)
    }


def _paired(
    english: Chapter, english_tabs: tuple[str, ...], other: Chapter, other_tabs: tuple[str, ...], same: bool
) -> tuple[list[Unit], dict[int, Block]]:
    """English units, and the other chapter's block paired with each. Two chapters with the
    same sequence of unit kinds (a file update wrote and its x_origin.md) pair by position."""
    units, others = make_units(english, english_tabs), make_units(other, other_tabs)
    if [type(u.block) for u in units] == [type(u.block) for u in others]:
        return units, {u.index: o.block for u, o in zip(units, others, strict=True)}
    return units, _pairs(align_chapters(english, other, english_tabs, other_tabs, same_language=same))


def translated_blocks(old: OldFile) -> list[tuple[Block | None, Block]]:
    """(English basis block or None, translated block) of every prose block of the old file
    that holds words of its own: paired with the English it was made from where the aligner
    finds one, alone where the translator added it. Aligned once per old file (the memory,
    the carrying and the retired list all ask): ``OldFile.translated``."""
    return old.translated


def _translated_blocks(old: OldFile) -> list[tuple[Block | None, Block]]:
    if old.basis is None:
        return []
    units, paired = _paired(old.basis, old.basis_tabs, old.translation, old.tabs, same=False)
    from_english = {id(paired[u.index]): u.block for u in units if u.index in paired and _is_prose(u.block)}
    found: list[tuple[Block | None, Block]] = []
    for unit in make_units(old.translation, old.tabs):
        if not _is_prose(unit.block):
            continue
        english = from_english.get(id(unit.block))
        if english is None or _translated(english, unit.block):
            found.append((english, unit.block))
    return found


def translation_pairs(old: OldFile) -> list[tuple[Block, Block]]:
    """(English basis block, translated block) of every prose block the translation made."""
    return [(english, block) for english, block in translated_blocks(old) if english is not None]


def _translated(english: Block, translation: Block) -> bool:
    """Whether a translated block holds words of its own (not English's left as they were)."""
    return words(english.source) != words(translation.source)


def _with_english_structure(english: Block, translation: Block) -> str:
    """The translated block with the structure today's English gives it: a heading's level, a
    figure's image path, references renamed in English."""
    text = translation.source
    if (
        isinstance(english, Heading)
        and isinstance(translation, Heading)
        and english.level != translation.level
    ):
        stripped = text.lstrip()
        if stripped.startswith("#"):
            text = "#" * english.level + stripped.lstrip("#")
    if (
        isinstance(english, Figure)
        and isinstance(translation, Figure)
        and english.path != translation.path
        and text.count(f"({translation.path}") == 1
    ):
        text = text.replace(f"({translation.path}", f"({english.path}", 1)
    return text


def _with_english_math(english: Block, text: str, older: Block | None = None) -> str:
    """The translated block's text with English's math where the translation broke it: a
    formula English displays (``$$…$$``) that the translation made inline (``$…$``: a machine
    translation read one ``$`` as a currency), and a formula that does not typeset whose
    tool damage undone (``repaired_tex``) has the shape of one of English's, which then
    stands in its place. Math is English's structure: update never carries it broken."""

    theirs = block_inline(english)
    if theirs is None or not (theirs.math or theirs.display_math) or "$" not in text:
        return text
    parsed = [b for b in parse_chapter("block", text.encode("utf-8")).blocks if not isinstance(b, Blank)]
    mine = block_inline(parsed[0]) if len(parsed) == 1 else None
    if mine is None:
        return text
    # compared as E004 compares them; a fuzzy block's translation follows the older English
    before = block_inline(older) if older is not None else None
    displayed = {math_key(m) for m in (*theirs.display_math, *(before.display_math if before else ()))}
    shown = {math_key(m) for m in mine.display_math}
    for key in sorted(displayed - shown):
        inline = [m for m in mine.math if math_key(m).rstrip(".,") == key.rstrip(".,")]
        if len(inline) == 1 and text.count(f"${inline[0]}$") == 1 and f"$${inline[0]}$$" not in text:
            text = text.replace(f"${inline[0]}$", f"$${inline[0]}$$", 1)
    healthy = {tex_shape(m): m for m in (*theirs.math, *theirs.display_math) if not tex_problem(m)}
    # formula by formula where the block has as many as English's: the one at the place of a
    # broken one is its English (a machine translation that spaced out `\ mathbf` and moved a
    # `$` has no twin by shape)
    by_place = dict(zip(mine.math, theirs.math, strict=True)) if len(mine.math) == len(theirs.math) else {}
    for tex in dict.fromkeys([*mine.math, *mine.display_math]):
        if not tex_problem(tex):
            continue
        twin = healthy.get(tex_shape(repaired_tex(tex)))
        place = by_place.get(tex)
        if twin is None and place is not None and not tex_problem(place):
            twin = place
        for delimiter in ("$$", "$"):
            written = f"{delimiter}{tex}{delimiter}"
            if twin is not None and text.count(written) == 1:
                text = text.replace(written, f"{delimiter}{twin}{delimiter}", 1)
                break
    return text


def _broken_math(text: str, english: Block) -> bool:
    """Whether the carried text still holds a formula MathJax cannot typeset that English's
    block does not have (a machine translation that moved a ``$`` into the prose)."""

    if "$" not in text:
        return False
    parsed = [b for b in parse_chapter("block", text.encode("utf-8")).blocks if not isinstance(b, Blank)]
    theirs = {spaceless_tex(m) for m in all_math(english)}
    return any(
        tex_problem(m, control=False) and spaceless_tex(m) not in theirs for b in parsed for m in all_math(b)
    )


def _closed_roles(englishes: Iterable[Block], text: str) -> str:
    """English's roles the translation wrote without their closing backtick
    (``:numref:`sec_x içinde``: the rest of the paragraph would be read as the role's
    target), closed again where the target is whole and a space or punctuation follows."""
    for english in englishes:
        for role in block_roles(english):
            opened = f":{role.name}:`{role.target}"
            if opened + "`" in text:
                continue
            text = re.sub(re.escape(opened) + r"(?=[\s.,;:!?)\]]|$)", lambda m: m.group(0) + "`", text, count=1)
    return text


def _renamed_references(old_english: Block, new_english: Block, text: str) -> str:
    """References the older English made, renamed as today's English makes them, position by
    position (``:numref:`sec_x``` -> ``:numref:`sec_y``` where only the target changed)."""
    old_roles, new_roles = block_roles(old_english), block_roles(new_english)
    if len(old_roles) != len(new_roles):
        return text
    for before, after in zip(old_roles, new_roles, strict=True):
        if before.name == after.name and before.target != after.target:
            written = f":{before.name}:`{before.target}`"
            if text.count(written) == 1:
                text = text.replace(written, f":{after.name}:`{after.target}`", 1)
    return text


def _code_cell(english: CodeCell, translation: Block | None, tabs: tuple[str, ...], explicit: str) -> str:
    """Today's English cell; its body the translation's where they differ only in comments
    and docstrings; an untagged cell tagged ``explicit`` (the edition reads another default tab)."""
    text = english.source
    if (
        isinstance(translation, CodeCell)
        and translation.code != english.code
        and normalise_code(translation.code) == normalise_code(english.code)
        and text.count(english.code) == 1
    ):
        text = text.replace(english.code, translation.code, 1)
    if explicit and english.executable and english.header is None:
        first, _, rest = text.partition("\n")
        text = f"{first}\n#@tab {explicit}\n{rest}"
    return text


@dataclass(frozen=True)
class Target:
    """Today's English chapter an edition's files are carried onto."""

    chapter: str
    english: Chapter
    tabs: tuple[str, ...]


Matched = list[tuple[OldFile, list[Unit], dict[int, Block]]]


def match_olds(target: Target, olds: list[OldFile]) -> Matched:
    """Today's English units of ``target``, each with the block of every old file's basis
    that is its older version."""
    return [
        (old, *_paired(target.english, target.tabs, old.basis, old.basis_tabs, same=True))
        for old in olds
        if old.basis is not None
    ]


def label_renames(matched: Iterable[Matched]) -> dict[str, str]:
    """Labels today's English renamed (``sec_language-model`` -> ``sec_language_model``), from
    the attribute lines and equations paired across the two Englishes."""
    renames: dict[str, str] = {}
    for per_chapter in matched:
        for _, units, paired in per_chapter:
            for unit in units:
                before = paired.get(unit.index)
                if before is None:
                    continue
                new_roles = [r for r in block_roles(unit.block) if r.name in DEFINING_ROLES]
                old_roles = [r for r in block_roles(before) if r.name in DEFINING_ROLES]
                if len(new_roles) == len(old_roles):
                    for a, b in zip(old_roles, new_roles, strict=True):
                        if a.target != b.target:
                            renames.setdefault(a.target, b.target)
    return renames


def _with_renamed_labels(text: str, renames: dict[str, str]) -> str:
    for name in ("numref", "ref", "eqref"):
        for old, new in renames.items():
            text = text.replace(f":{name}:`{old}`", f":{name}:`{new}`")
    return text


def update_chapter(
    target: Target,
    matched: Matched,
    memory: TranslationMemory,
    edition: str,
    memory_editions: tuple[str, ...],
    explicit_tab: str,
    renames: dict[str, str] | None = None,
) -> tuple[UpdatedFile, set[tuple[str, int]]]:
    """The translation of ``target`` made from the old files that map to it (``matched``)
    and the memory, and the translated blocks it used, as (old file, line)."""
    english = target.english
    renames = renames or {}
    # today's English unit index -> (old file, basis block, translated block)
    carried: dict[int, tuple[OldFile, Block, Block]] = {}
    for old, units, paired in matched:
        translated = {id(b): t for b, t in translation_pairs(old)}
        for unit in units:
            basis_block = paired.get(unit.index)
            if basis_block is not None and unit.index not in carried and id(basis_block) in translated:
                carried[unit.index] = (old, basis_block, translated[id(basis_block)])
    units = make_units(english, target.tabs)
    index_of = {id(unit.block): unit.index for unit in units}
    used: set[tuple[str, int]] = set()
    placed: list[Placed] = []

    def options(block: Block) -> list[Placed]:
        """What one leaf block of today's English may hold, best first; the last is English."""
        line = block.span.start
        unit_index = index_of.get(id(block))
        if isinstance(block, CodeCell):
            own = carried.get(unit_index) if unit_index is not None else None
            origin = _code_cell(block, None, target.tabs, explicit_tab)
            text = _code_cell(block, own[2] if own else None, target.tabs, explicit_tab)
            return [Placed("structure", line, text, origin), Placed("structure", line, origin, origin)]
        if not _is_prose(block) or unit_index is None:
            return [Placed("structure", line, block.source, block.source)]
        found: list[Placed] = []
        carry = carried.get(unit_index)
        # a translation that swallowed a label, an equation or its paragraph is not carried
        # (it is retired)
        if carry is not None and _same_definitions(carry[1], carry[2]) and not swallowed(carry[1], carry[2]):
            old, basis_block, translated = carry
            text = _restructured(basis_block, block, translated, renames)
            where = f"{old.shown}:{translated.span.start}"
            # the older English, in today's structure (image path, heading level, renamed
            # references, math): x_origin.md and the translation differ from today's English
            # in words only. Where English changed nothing but that structure, the block is
            # exact (so a second update finds it exact too: idempotent)
            origin = _restructured(basis_block, block, basis_block, renames)
            if _broken_math(text, block):
                pass  # math English's formulas could not mend (E005): retired, never carried
            elif words(basis_block.source) == words(block.source) or words(origin) == words(block.source):
                found.append(Placed("exact", line, text, block.source, where))
            else:
                found.append(Placed("fuzzy", line, text, origin, where))
        kind = _kind_key(block)
        moved = memory.exact(kind, block.source, edition)
        if moved is not None:
            text = _with_renamed_labels(_memory_text(block, moved), renames)
            found.append(Placed("exact", line, text, block.source, moved.where))
        for similar in memory.similar(kind, block.source, memory_editions):
            text = _with_renamed_labels(_memory_text(block, similar), renames)
            origin = _restructured(similar.english_block, block, similar.english_block, renames)
            found.append(Placed("memory", line, text, origin, f"memory: {similar.where}"))
        found.append(Placed("english", line, block.source, block.source))
        distinct: dict[str, Placed] = {}  # the same words twice are one option
        for option in found:
            option = replace(
                option,
                text=_ending_as(block.source, option.text),
                origin=_ending_as(block.source, option.origin),
            )
            distinct.setdefault(option.text, option)
        return list(distinct.values())

    # every leaf block of today's English, in order, with its options (the first is placed)
    leaves: list[tuple[Block, int]] = []
    choices: list[list[Placed]] = []
    for block, _ in iter_blocks(english.blocks):
        if not isinstance(block, TabBlock):
            choices.append(options(block))
            leaves.append((block, len(choices) - 1))
    placed[:] = [found[0] for found in choices]
    expected = [type(u.block) for u in units]
    # a translated block must not change the chapter's structure once in place (a list that
    # runs on into the next paragraph, a lost blank line): each one that does gives way to
    # its next option, in the end English
    for _ in range(MAX_REVERTS):
        text = _compose(english, leaves, placed, "text")
        got = [
            type(u.block)
            for u in make_units(parse_chapter(target.chapter, text.encode("utf-8")), target.tabs)
        ]
        if got == expected:
            break
        culprit = _first_difference(expected, got, leaves, placed, units, choices)
        if culprit is None:
            break
        index = leaves[culprit][1]
        position = next(i for i, option in enumerate(choices[index]) if option is placed[index])
        placed[index] = choices[index][min(position + 1, len(choices[index]) - 1)]
    for p in placed:
        if p.kind in ("exact", "fuzzy") or (p.kind == "memory" and _own(p.came_from, edition)):
            used.add(_location(p.came_from.removeprefix("memory: ")))
    file = UpdatedFile(
        target.chapter,
        _compose(english, leaves, placed, "text"),
        _compose(english, leaves, placed, "origin"),
        tuple(placed),
        tuple(sorted({old.chapter for old, _, _ in matched})),
    )
    return file, used


#: how many translated blocks one chapter may give back to English for its structure's sake
MAX_REVERTS = 40


def _own(came_from: str, edition: str) -> bool:
    return came_from.removeprefix("memory: ").startswith(f"translations/{edition}/")


def _compose(english: Chapter, leaves: list[tuple[Block, int]], placed: list[Placed], field_name: str) -> str:
    """The chapter's text (or its origin's): each leaf's placement in today's English order."""
    by_block = {id(block): index for block, index in leaves}
    out: list[str] = []
    for block in english.blocks:
        children = block.children if isinstance(block, TabBlock) else (block,)
        for child in children:
            out.append(getattr(placed[by_block[id(child)]], field_name))
    return "".join(out)


def _memory_text(english: Block, entry: MemoryEntry) -> str:
    """A memory suggestion with today's English structure (heading level, image path,
    renamed references, math)."""
    text = _closed_roles((entry.english_block, english), _with_english_structure(english, entry.block))
    return _with_english_math(english, _renamed_references(entry.english_block, english, text), entry.english_block)


def _restructured(older: Block, english: Block, block: Block, renames: dict[str, str]) -> str:
    """``block`` (a translation of ``older`` English, or ``older`` itself) in the structure
    today's ``english`` block gives it: heading level, image path, references and labels as
    today's English names them, English's math where the translation broke it."""
    text = _closed_roles((older, english), _with_english_structure(english, block))
    text = _renamed_references(older, english, text)
    return _with_renamed_labels(_with_english_math(english, text, older), renames)


def _first_difference(
    expected: list[type],
    got: list[type],
    leaves: list[tuple[Block, int]],
    placed: list[Placed],
    units: list[Unit],
    choices: list[list[Placed]],
) -> int | None:
    """The leaf to give way: the last one not yet at its last option at or before the first
    unit whose kind differs."""
    at = next(
        (i for i, (a, b) in enumerate(zip(expected, got, strict=False)) if a is not b),
        min(len(expected), len(got)),
    )
    unit_blocks = {id(u.block): u.index for u in units}
    # fewer units than English: a block ran on into the next one, so the one before the first
    # difference is the first suspect; more units: the block at the difference split
    limits = (at - 1, at) if len(got) < len(expected) else (at,)
    for limit in limits:
        candidates = [
            i
            for i, (block, index) in enumerate(leaves)
            if placed[index] is not choices[index][-1] and unit_blocks.get(id(block), len(units)) <= limit
        ]
        if candidates:
            return candidates[-1]
    return None


def _same_definitions(english: Block, translation: Block) -> bool:
    """Whether a translated block defines the labels its English block defines, no more."""

    def defined(block: Block) -> list[str]:
        return sorted(r.target for r in block_roles(block) if r.name in DEFINING_ROLES)

    return defined(english) == defined(translation)


def _ending_as(english: str, text: str) -> str:
    """``text`` ending in as many newlines as today's English block (a translated paragraph
    without its final newline would swallow the ``:end_tab:`` after it)."""
    ending = len(english) - len(english.rstrip("\n"))
    return text.rstrip("\n") + "\n" * ending


def _location(where: str) -> tuple[str, int]:
    path, _, line = where.rpartition(":")
    return path, int(line) if line.isdigit() else 0


def build_memory(olds_by_edition: dict[str, list[OldFile]]) -> TranslationMemory:
    """Every translated prose block of the given editions, by the English it was made from."""
    memory = TranslationMemory()
    for edition, olds in olds_by_edition.items():
        for old in olds:
            for english, translated in translation_pairs(old):
                if not intact(english, translated):
                    continue
                memory.add(
                    _kind_key(english),
                    MemoryEntry(
                        english.source,
                        translated.source,
                        f"{old.shown}:{translated.span.start}",
                        edition,
                        translated,
                        english,
                    ),
                )
    return memory


def update_edition(
    edition: str,
    olds: list[OldFile],
    targets: Callable[[str], Target | None],
    memory: TranslationMemory,
    memory_editions: tuple[str, ...],
    explicit_tab: str = "",
    others: Iterable[str] = (),
) -> EditionUpdate:
    """Every translated file of ``olds`` carried onto the today's chapter it maps to.

    With ``others`` (every chapter of today's English: a whole edition is updated), every
    chapter is written, English where the edition has no words for it yet, so the edition
    holds today's whole book (its tocs list every chapter, as d2lbook builds it). Else a
    chapter is written when at least one of its blocks carries a translation of the
    edition itself (not only memory from another edition)."""
    result = EditionUpdate(edition)
    by_target: dict[str, list[OldFile]] = {}
    for old in olds:
        if old.today:
            by_target.setdefault(old.today, []).append(old)
    used: set[tuple[str, int]] = set()
    matched: dict[str, tuple[Target, Matched]] = {}
    for chapter in sorted(by_target):
        target = targets(chapter)
        if target is not None:
            matched[chapter] = (target, match_olds(target, by_target[chapter]))
    # today's chapters no old file maps to (English split or renamed a chapter): carried from
    # the memory where blocks of the edition moved there
    complete = bool(others)
    for chapter in others:
        target = targets(chapter)
        if target is not None and chapter not in matched:
            matched[chapter] = (target, [])
    renames = label_renames(m for _, m in matched.values())
    for chapter, (target, per_chapter) in sorted(matched.items()):
        file, file_used = update_chapter(
            target, per_chapter, memory, edition, memory_editions, explicit_tab, renames
        )
        own = any(
            p.kind in ("exact", "fuzzy") or (p.kind == "memory" and _own(p.came_from, edition))
            for p in file.placed
        )
        if not own and not complete:
            continue  # a chapter updated alone is written when the edition has words for it
        result.files.append(file)
        used |= file_used
    written = {f.chapter for f in result.files}
    for old in olds:
        if old.basis is None:
            continue  # nothing of it was read: the file stays as it is
        for english, translated in translated_blocks(old):
            if (old.shown, translated.span.start) not in used:
                result.retired.append(
                    Retired(
                        old.shown,
                        translated.span.start,
                        translated.source,
                        english.source if english is not None else "",
                        old.today,
                    )
                )
        if old.chapter not in written:  # every block of it is placed elsewhere or retired
            result.removed.append(old.chapter)
    return result


def merge_retired(path: Path, retired: list[Retired]) -> str:
    """The edition's ``obsolete.jsonl`` with ``retired`` added (never a record dropped), sorted."""
    records: dict[tuple[str, int, str], Retired] = {}
    for item in [*read_retired(path), *retired]:
        known = records.get((item.path, item.line, item.text))
        if known is None or not known.chapter:  # a record written before records named their chapter
            records[(item.path, item.line, item.text)] = item
    return "".join(json.dumps(records[key].to_json(), ensure_ascii=False) + "\n" for key in sorted(records))


# ---------------------------------------------------------------- the project


@dataclass(frozen=True)
class UpdatePlan:
    """What ``toolkit update`` would write, edition by edition."""

    updates: tuple[EditionUpdate, ...]
    whole: frozenset[str]  # editions updated whole: their edition.toml moves to today's English
    today: str  # the English revision it carries onto: today's, or the one ``--to`` named
    today_tabs: tuple[str, ...]


def target_revision(lock: Lock, config: ProjectConfig, wanted: str) -> Revision:
    """The English revision ``--to`` names (its id in LOCK.toml or a prefix of 7+ hex digits
    of its commit), which the project must have read (``source_en/<id>/``); today's when
    ``wanted`` is empty."""
    if not wanted:
        return lock.today
    wanted = wanted.strip()
    found = lock.revision(wanted)
    if found is None and re.fullmatch(r"[0-9a-fA-F]{7,40}", wanted):
        found = next((r for r in lock.revisions if r.commit.startswith(wanted.lower())), None)
    present = [r.id for r in lock.revisions if (config.source_dir / r.id).is_dir()]
    if found is None or found.id not in present:
        raise ConfigError(
            f"--to {wanted!r}: not an English revision this project has read; it has "
            f"{', '.join(present) or 'none'} (add a [[revision]] to {config.source_dir / 'LOCK.toml'} and run "
            "`toolkit sync`)"
        )
    return found


def plan_update(
    config: ProjectConfig,
    only: Iterable[Path] = (),
    editions: tuple[str, ...] = (),
    store: ChapterStore | None = None,
    to: str = "",
) -> UpdatePlan:
    """Read every edition (or those named, or the files under ``only``) and carry it onto
    today's English (or the revision ``to`` names). The memory holds every edition of the
    same language, whole.

    A revision the project read whole (its ``<id>.files.lock``) is a whole book: an edition
    updated onto it moves there (its edition.toml too). A revision of a few chapters (the
    corpus's older English) updates those chapters only, and never retires or removes what
    it has no chapter for. Old files map to the revision's chapters by today's paths."""
    store = store or ChapterStore(config.root)
    jobs, lock, known = project_jobs(config, (), store)
    goal = target_revision(lock, config, to)
    complete = goal.today or (config.source_dir / f"{goal.id}.files.lock").is_file()
    unknown = sorted(set(editions) - {e.id for e in known})
    if unknown:
        raise ConfigError(f"unknown edition(s) {', '.join(unknown)}; known: {', '.join(e.id for e in known)}")
    wanted = [p.resolve() for p in only]

    def selected(job: ChapterJob) -> bool:
        if editions and job.edition not in editions:
            return False
        return not wanted or any(w == (r := job.translation.resolve()) or w in r.parents for w in wanted)

    english_root = config.source_dir / goal.id
    chosen = [job for job in jobs if selected(job)]
    if not complete:  # only the chapters the revision has
        chosen = [
            job
            for job in chosen
            if job.today is not None and (english_root / (job.today_chapter or job.chapter)).is_file()
        ]
    if wanted and not chosen:
        raise ConfigError(
            "no translated chapter under "
            + ", ".join(str(p) for p in only)
            + ("" if complete else f" that English {goal.id} has")
        )
    today = goal
    olds: dict[str, list[OldFile]] = {}
    for job in jobs:
        olds.setdefault(job.edition, []).append(OldFile.of_job(job, store))
    language_of = {e.id: e.language for e in known}

    def target(chapter: str) -> Target | None:
        path = english_root / chapter
        return Target(chapter, store.get(path), today.tabs) if path.is_file() else None

    todays = [str(p.relative_to(english_root)) for p in chapter_files(english_root)]
    updates: list[EditionUpdate] = []
    whole: set[str] = set()
    for edition in known:
        mine = {job.chapter for job in chosen if job.edition == edition.id}
        if not mine:
            continue
        family = tuple(e for e, language in language_of.items() if language == edition.language)
        memory = build_memory({e: olds.get(e, []) for e in family})
        is_whole = not wanted and complete
        explicit = "" if is_whole or edition.tabs[0] == today.tabs[0] else today.tabs[0]
        # memory from the edition first: its own words, then the other editions' of its language
        update = update_edition(
            edition.id,
            [old for old in olds.get(edition.id, []) if old.chapter in mine],
            target,
            memory,
            (edition.id, *(e for e in family if e != edition.id)),
            explicit,
            todays if is_whole else (),
        )
        updates.append(update)
        if is_whole:
            whole.add(edition.id)
    return UpdatePlan(tuple(updates), frozenset(whole), today.id, today.tabs)


def origin_path(chapter: str) -> str:
    return chapter[: -len(".md")] + ORIGIN_SUFFIX


def planned_writes(config: ProjectConfig, plan: UpdatePlan) -> dict[Path, str | None]:
    """Every file the plan writes (text) or removes (None)."""
    writes: dict[Path, str | None] = {}
    for update in plan.updates:
        directory = config.translations_dir / update.edition
        for file in update.files:
            writes[directory / file.chapter] = file.text
            writes[directory / origin_path(file.chapter)] = file.origin
        for chapter in update.removed:
            writes.setdefault(directory / chapter, None)
            if (directory / origin_path(chapter)).exists():
                writes.setdefault(directory / origin_path(chapter), None)
        if update.retired:
            writes[directory / OBSOLETE_NAME] = merge_retired(directory / OBSOLETE_NAME, update.retired)
        if update.edition in plan.whole:
            toml = directory / "edition.toml"
            writes[toml] = _moved_edition(toml.read_text("utf-8"), plan.today, plan.today_tabs)
    return writes


def _moved_edition(text: str, today: str, tabs: tuple[str, ...]) -> str:
    """edition.toml with its basis and tabs today's English's (its other lines kept)."""
    lines = []
    for line in text.splitlines():
        key = line.split("=", 1)[0].strip()
        if key == "basis":
            line = f'basis = "{today}"'
        elif key == "tabs":
            line = "tabs = [" + ", ".join(f'"{t}"' for t in tabs) + "]"
        lines.append(line)
    return "\n".join(lines) + "\n"


def changed_writes(writes: dict[Path, str | None]) -> dict[Path, str | None]:
    """The writes that change something on disk."""
    changed: dict[Path, str | None] = {}
    for path, text in writes.items():
        if text is None:
            if path.exists():
                changed[path] = None
        elif not path.is_file() or path.read_text("utf-8") != text:
            changed[path] = text
    return changed


def apply_writes(writes: dict[Path, str | None]) -> None:
    """Write (atomically) and remove, as planned. Never through a symbolic link."""
    for path, text in writes.items():
        if path.is_symlink():
            raise ConfigError(f"{path}: a symbolic link: update never writes through one")
        if text is None:
            path.unlink(missing_ok=True)
        else:
            write_text_atomic(path, text)


# ---------------------------------------------------------------- back upstream


def edition_patch(config: ProjectConfig, edition: Edition) -> str:
    """A patch of the edition's files against its locked commit, in its repository's own
    layout, that ``git apply`` accepts in a clone of it: every book file the project changed,
    added (an updated chapter, its x_origin.md, obsolete.jsonl) or removed. Made by git
    itself (``git diff --no-index``) from the snapshot ``toolkit sync`` read."""
    import subprocess
    import tempfile

    from toolkit.book.fetch import FetchError, fetch_snapshot
    from toolkit.book.sync import book_files, edition_source, read_lock

    locked = read_lock(edition.directory / "files.lock")
    if locked is None:
        raise ConfigError(
            f"{edition.directory / 'files.lock'}: missing: run `toolkit sync --edition {edition.id}`"
        )
    try:
        snapshot = fetch_snapshot(edition_source(config, edition))
    except FetchError as error:
        raise ConfigError(f"{edition.id}: {error}") from error
    ours = set(book_files(edition.directory))
    if (edition.directory / OBSOLETE_NAME).is_file():
        ours.add(OBSOLETE_NAME)
    theirs = set(locked.files)
    with tempfile.TemporaryDirectory(prefix="toolkit-diff-") as scratch:
        before, after = Path(scratch) / "a", Path(scratch) / "b"
        for name in sorted(ours | theirs):
            mine = edition.directory / name
            upstream = snapshot / name
            new = mine.read_bytes() if name in ours and mine.is_file() else None
            old = upstream.read_bytes() if name in theirs and upstream.is_file() else None
            if new == old:
                continue
            for root, data in ((before, old), (after, new)):
                if data is not None:
                    (root / name).parent.mkdir(parents=True, exist_ok=True)
                    (root / name).write_bytes(data)
        before.mkdir(exist_ok=True)
        after.mkdir(exist_ok=True)
        done = subprocess.run(
            ["git", "diff", "--no-index", "--no-prefix", "--binary", "--", "a", "b"],
            cwd=scratch,
            capture_output=True,
            check=False,
        )
        if done.returncode not in (0, 1):
            raise ConfigError(f"git diff: {done.stderr.decode('utf-8', 'replace').strip()}")
    return done.stdout.decode("utf-8", "surrogateescape")
