"""gettext catalogs of one translated chapter: export, import and the round-trip report.

Invariants:
- The *skeleton* is the English revision the edition was translated from (its basis, named in
  the header ``X-D2L-Skeleton``). Every segment of the skeleton (see ``segments``) is one PO
  entry whose ``msgctxt`` is stable: the nearest heading's label (or its slug), the block kind
  and its ordinal in that section, and the segment's ordinal in the block.
- ``msgid`` is today's English for that segment; where English changed since the basis the
  entry is ``#, fuzzy`` with the basis English as ``#| msgid``. ``msgstr`` is the aligned
  translation, empty where the translation is missing or still in English.
- ``import_catalog(skeleton, catalog, translation)`` changes only words. Each translated
  block whose frame equals its English block's frame gets the catalog's words put into its
  own frame; every other byte of the translation stays as it is. An empty ``msgstr`` keeps
  the translation's current words (never English over a translation). So export then import
  with no edit gives back every file byte for byte, whatever drift it has (tested on the
  whole book); ``unreachable_blocks`` names the blocks the catalog cannot change, and why.
- A ``msgstr`` can change words, not structure: a block whose new text parses into other
  blocks (a fence, a heading, ``:begin_tab:``, a ``:label:`` line), changes roles, math, code
  or adds raw HTML or active content its English and its current text lack is *refused*
  (``Refusal``, with the PO line) and left as it was. Without a translation file the
  skeleton's blocks are the targets (a new chapter), under the same rules.
- A catalog entry whose ``msgctxt`` the skeleton does not have is a ``CatalogError``: the PO
  file belongs to another chapter or revision, and nothing is imported.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

import polib

from toolkit.align import Alignment, align_chapters
from toolkit.checks.unsafe import active_content, raw_tags
from toolkit.code import normalise_code
from toolkit.languages import plural_forms
from toolkit.model import (
    Attributes,
    Blank,
    Block,
    Chapter,
    CodeCell,
    Heading,
    Other,
    TabBlock,
    block_inline,
    iter_blocks,
)
from toolkit.po.segments import KIND_NAMES, Split, split_block

NEW_CONTEXT = "new/"  # entries for English blocks added since the basis (import refuses their words)


class CatalogError(Exception):
    """A catalog that does not belong to the chapter it is imported into."""


@dataclass(frozen=True)
class Refusal:
    """A block whose catalog words would change structure: left as it was."""

    po_line: int
    msgctxt: str
    line: int  # the block's line in the file written
    reason: str


@dataclass(frozen=True)
class Imported:
    text: str
    refused: tuple[Refusal, ...]




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
    seen_sections: dict[str, int] = {}
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
            # two headings of one name ("Operations" twice) must not share their entries
            seen_sections[section] = seen_sections.get(section, 0) + 1
            if seen_sections[section] > 1:
                section = f"{section}-{seen_sections[section]}"
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
        "Plural-Forms": plural_forms(language),
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
            entry = polib.POEntry(msgctxt=f"{NEW_CONTEXT}{number}.{position + 1}", msgid=segment, msgstr="")
            entry.occurrences = [(today.path, str(block.span.start))]
            entry.comment = "added in English since the translation's basis (stale)"
            catalog.append(entry)


OBSOLETE_CONTEXT = "obsolete/"  # ``#~`` entries: translations update retired ("obsolete/<path>:<line>")


def append_obsolete(catalog: polib.POFile, retired: Iterable[tuple[str, str, str]]) -> None:
    """``#~`` entries, as msgmerge keeps a translation whose English left: one per retired
    block (``where`` its old ``path:line``, the English it was made from, its translation).
    Import never reads them; a translator can copy words from them."""
    seen: Counter[str] = Counter()
    for where, english, translation in retired:
        seen[where] += 1
        context = OBSOLETE_CONTEXT + where + (f"#{seen[where]}" if seen[where] > 1 else "")
        # msgid "" is the header's: a block with no English of its own shows its translation
        catalog.append(polib.POEntry(msgctxt=context, msgid=english or translation, msgstr=translation, obsolete=True))


def skeleton_contexts(skeleton: Chapter) -> set[str]:
    """Every ``msgctxt`` an export of ``skeleton`` can hold."""
    contexts = block_contexts(skeleton)
    return {
        f"{contexts[block.span.start]}.{position + 1}"
        for block in _leaves(skeleton)
        if block.span.start in contexts
        for position in range(len(split_block(block).segments))
    }


def import_catalog(
    skeleton: Chapter,
    catalog: polib.POFile,
    translation: Chapter | None = None,
    skeleton_tabs: tuple[str, ...] = (),
    tabs: tuple[str, ...] = (),
) -> Imported:
    """The chapter with the catalog's words: ``translation`` changed only where the catalog
    says other words, or the skeleton filled with them when there is no translation yet."""
    known = skeleton_contexts(skeleton)
    unknown = sorted(
        {
            e.msgctxt
            for e in catalog
            if e.msgctxt
            and not e.obsolete
            and not e.msgctxt.startswith(NEW_CONTEXT)
            and e.msgctxt not in known
        }
    )
    if unknown:
        shown = ", ".join(unknown[:5]) + (f" and {len(unknown) - 5} more" if len(unknown) > 5 else "")
        raise CatalogError(
            f"{len(unknown)} entr{'y' if len(unknown) == 1 else 'ies'} with a msgctxt this chapter's English "
            f"does not have ({shown}): the file belongs to another chapter or revision"
        )
    entries = {e.msgctxt: e for e in catalog if e.msgctxt and not e.obsolete}
    base = translation if translation is not None else skeleton
    targets = (
        _paired(align_chapters(skeleton, translation, skeleton_tabs, tabs))
        if translation is not None
        else {block.span.start: block for block in _leaves(skeleton)}
    )
    contexts = block_contexts(skeleton)
    replacements: dict[int, str] = {}  # id(block) -> its new source
    refused: list[Refusal] = []
    for block in _leaves(skeleton):
        context = contexts.get(block.span.start)
        target = targets.get(block.span.start)
        english = split_block(block)
        if context is None or target is None or not english.segments:
            continue
        theirs = split_block(target)
        if theirs.frame != english.frame:
            continue  # not reachable by the catalog: left exactly as it is
        chosen = []
        for position, current in enumerate(theirs.segments):
            entry = entries.get(f"{context}.{position + 1}")
            chosen.append(entry.msgstr if entry is not None and entry.msgstr else current)
        if tuple(chosen) == theirs.segments:
            continue
        rebuilt = theirs.join(tuple(chosen))
        reason = structure_change(target, rebuilt, block)
        if reason is not None:
            first = next(
                entries[f"{context}.{i + 1}"] for i, words in enumerate(chosen) if words != theirs.segments[i]
            )
            refused.append(Refusal(first.linenum or 0, first.msgctxt or context, target.span.start, reason))
            continue
        replacements[id(target)] = rebuilt
    # a block English added since the basis has no place in a file that still follows its
    # basis: its words are refused by name, never dropped without a word
    refused.extend(
        Refusal(
            entry.linenum or 0,
            entry.msgctxt or NEW_CONTEXT,
            1,
            "a translation of a block English added after this file's basis: the file has no place for "
            "it yet (it follows its basis); it stays in the PO file",
        )
        for entry in catalog
        if entry.msgctxt and entry.msgctxt.startswith(NEW_CONTEXT) and entry.msgstr and not entry.obsolete
    )
    return Imported(_rewrite(base, replacements), tuple(refused))


def accepted_origin(
    basis: Chapter,
    basis_tabs: tuple[str, ...],
    today: Chapter,
    today_tabs: tuple[str, ...],
    catalog: polib.POFile,
) -> str | None:
    """The basis (an ``x_origin.md``) with each block a translator brought up to today's
    English put in today's words, or None when there is none: a block English changed whose
    entries all have a msgstr and none is fuzzy any more. So check-alignment's staleness
    (S001) no longer counts what a translator revised in Poedit."""
    changed = _paired(align_chapters(basis, today, basis_tabs, today_tabs, same_language=True))
    contexts = block_contexts(basis)
    entries = {e.msgctxt: e for e in catalog if e.msgctxt and not e.obsolete}
    replacements: dict[int, str] = {}
    for block in _leaves(basis):
        context, now = contexts.get(block.span.start), changed.get(block.span.start)
        if context is None or now is None or isinstance(block, CodeCell):
            continue  # a code cell's code is English's business: never rewritten from a PO file
        segments = split_block(block).segments
        if split_block(now).segments == segments:
            continue  # export made no entry of it fuzzy: nothing for a translator to accept
        mine = [entries.get(f"{context}.{position + 1}") for position in range(len(segments))]
        if segments and all(e is not None and e.msgstr and "fuzzy" not in e.flags for e in mine):
            replacements[id(block)] = now.source
    return _rewrite(basis, replacements) if replacements else None


def _rewrite(chapter: Chapter, replacements: dict[int, str]) -> str:
    out: list[str] = []
    for block in chapter.blocks:
        if isinstance(block, TabBlock):
            out.extend(replacements.get(id(child), child.source) for child in block.children)
        else:
            out.append(replacements.get(id(block), block.source))
    return "".join(out)


def _facts(block: Block) -> tuple[Counter[tuple[str, str]], Counter[str]]:
    inline = block_inline(block)
    if inline is None:
        return Counter(), Counter()
    return Counter((r.name, r.target) for r in inline.roles), Counter(m.strip() for m in inline.math)


def structure_change(current: Block, rebuilt: str, english: Block) -> str | None:
    """Why ``rebuilt`` (``current`` with new words) is more than new words, or None.

    What may differ is the words; roles, math and raw HTML may stay as the block has them or
    become as English has them, nothing else."""
    from toolkit.parser import parse_chapter

    parsed = parse_chapter("msgstr", rebuilt)
    blocks = [b for b, _ in iter_blocks(parsed.blocks) if not isinstance(b, Blank)]
    if len(blocks) != 1 or type(blocks[0]) is not type(current):
        kinds = ", ".join(_kind(b) for b in blocks) or "nothing"
        return f"the words turn this {_kind(current)} into {kinds}: markup (a fence, heading, tab marker or label line) in msgstr"
    new = blocks[0]
    if split_block(new).frame != split_block(current).frame:
        return "the words change the block's markup (line breaks, list or table structure)"
    if isinstance(new, CodeCell) and isinstance(current, CodeCell):
        if normalise_code(new.code) != normalise_code(current.code) or new.info != current.info:
            return "the words change the code (a comment or docstring must stay a comment or docstring)"
        return None
    roles, math = _facts(new)
    if roles not in (_facts(current)[0], _facts(english)[0]):
        return "the words add, drop or change roles (:numref:, :cite:, :eqref:, :label: …)"
    if math not in (_facts(current)[1], _facts(english)[1]):
        return "the words add, drop or change math ($…$)"
    allowed_tags = {t for _, t in raw_tags(current)} | {t for _, t in raw_tags(english)}
    added_tags = sorted({t for _, t in raw_tags(new)} - allowed_tags)
    if added_tags:
        return "the words add raw HTML the English lacks: " + ", ".join(f"<{t}>" for t in added_tags)
    allowed_active = {w for _, w in active_content(current)} | {w for _, w in active_content(english)}
    added_active = sorted({w for _, w in active_content(new)} - allowed_active)
    if added_active:
        return "the words add active content: " + ", ".join(added_active)
    return None


def round_trip(
    basis: Chapter,
    basis_tabs: tuple[str, ...],
    translation: Chapter,
    tabs: tuple[str, ...],
    language: str,
    today: Chapter | None = None,
    today_tabs: tuple[str, ...] = (),
) -> Imported:
    """Export the chapter's catalog, write it as a PO file would be and import it with no
    edit: the invariant says ``.text`` is the translation and nothing is refused."""
    catalog = export_catalog(basis, basis_tabs, translation, tabs, language, today, today_tabs)
    return import_catalog(basis, polib.pofile(catalog.__unicode__()), translation, basis_tabs, tabs)


def counts(catalog: polib.POFile) -> Counts:
    """The catalog's live entries by state (``#~`` obsolete entries are no part of the chapter)."""
    live = [e for e in catalog if not e.obsolete]
    stale = sum(1 for e in live if e.msgctxt and e.msgctxt.startswith(NEW_CONTEXT))
    fuzzy = sum(1 for e in live if "fuzzy" in e.flags and not (e.msgctxt or "").startswith(NEW_CONTEXT))
    untranslated = sum(
        1
        for e in live
        if not e.msgstr and "fuzzy" not in e.flags and not (e.msgctxt or "").startswith(NEW_CONTEXT)
    )
    return Counts(len(live) - stale - fuzzy - untranslated, fuzzy, untranslated, stale)


def unreachable_blocks(
    basis: Chapter,
    basis_tabs: tuple[str, ...],
    translation: Chapter,
    tabs: tuple[str, ...],
) -> list[Problem]:
    """The translated blocks a catalog cannot change (import leaves them as they are), and
    why: their markup is not English's, or they have no English counterpart."""
    problems: list[Problem] = []
    if "\r\n" in translation.text:
        problems.append(Problem(1, 1, "CRLF line endings: the English skeleton has LF"))
    alignment = align_chapters(basis, translation, basis_tabs, tabs)
    reached = {id(block) for block in _paired(alignment).values()}
    for pair in alignment.pairs:
        en, tr = pair.en, pair.tr
        if en is None and tr is not None:
            if split_block(tr.block).segments:
                problems.append(
                    Problem(tr.block.span.start, 0, f"{_kind(tr.block)} has no English counterpart")
                )
        elif tr is None and en is not None:
            if split_block(en.block).segments:
                problems.append(Problem(0, en.block.span.start, f"English {_kind(en.block)} is missing here"))
        elif en is not None and tr is not None and not isinstance(en.block, TabBlock):
            mine, theirs = split_block(en.block), split_block(tr.block)
            if not mine.segments:
                continue
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
            elif id(tr.block) not in reached:
                problems.append(
                    Problem(
                        tr.block.span.start,
                        en.block.span.start,
                        f"{_kind(tr.block)} is not paired with its English block",
                    )
                )
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
