"""The project's catalogs: one per edition and chapter, from the markdown the editions keep.

The markdown files stay the editions' source of truth; ``po/<edition>/<chapter>.po`` is made
from them (export) and turned back into them (import). Nothing here parses arguments.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import polib

from toolkit.book.basis import is_origin
from toolkit.cache import ResultCache
from toolkit.checker import ChapterJob, ChapterStore, check_jobs, file_basis, project_jobs
from toolkit.config import ConfigError, Lock, ProjectConfig, load_edition, load_lock
from toolkit.language import LanguageDetector
from toolkit.po.catalog import (
    CatalogError,
    Counts,
    Problem,
    Refusal,
    accepted_origin,
    append_obsolete,
    counts,
    export_catalog,
    import_catalog,
    unreachable_blocks,
)
from toolkit.update import OBSOLETE_NAME, Retired, read_retired

SKELETON_KEY = "X-D2L-Skeleton"
#: far above any chapter's catalog (the book's largest is a few hundred KB) and any segment
MAX_PO_CHARACTERS = 8_000_000
MAX_MSGSTR_CHARACTERS = 100_000


@dataclass(frozen=True)
class ChapterCatalog:
    job: ChapterJob
    catalog: polib.POFile
    counts: Counts
    problems: tuple[Problem, ...]  # blocks the catalog cannot change (import leaves them as they are)

    def po_path(self, po_dir: Path) -> Path:
        return po_dir / self.job.edition / (self.job.chapter[: -len(".md")] + ".po")


def _untranslated(
    config: ProjectConfig, jobs: list[ChapterJob], store: ChapterStore
) -> dict[tuple[str, str], set[int]]:
    detector = LanguageDetector(config.cache_dir / "language.json")
    # P001: a block still in English; F003: a caption still in English
    result = check_jobs(jobs, store, detector, select=("P001", "F003"), cache=ResultCache(config.cache_dir))
    detector.save()
    return {(r.job.edition, r.job.chapter): {f.line for f in r.findings} for r in result.results}


def project_catalogs(
    config: ProjectConfig, paths: tuple[Path, ...] = (), editions: tuple[str, ...] = ()
) -> list[ChapterCatalog]:
    jobs, lock, known = project_jobs(config, paths, cache=ResultCache(config.cache_dir))
    unknown = sorted(set(editions) - {e.id for e in known})
    if unknown:
        raise ConfigError(f"unknown edition(s) {', '.join(unknown)}; known: {', '.join(e.id for e in known)}")
    jobs = [j for j in jobs if (not editions or j.edition in editions) and j.basis is not None]
    store = ChapterStore(config.root)
    untranslated = _untranslated(config, jobs, store)
    retired: dict[str, list[Retired]] = {}

    def retired_of(edition: str) -> list[Retired]:
        """What ``toolkit update`` retired in the edition (its obsolete.jsonl), read once."""
        if edition not in retired:
            retired[edition] = read_retired(config.translations_dir / edition / OBSOLETE_NAME)
        return retired[edition]

    found = []
    for job in jobs:
        assert job.basis is not None
        basis, translation = store.get(job.basis), store.get(job.translation)
        today = store.get(job.today) if job.today and job.today_id != job.basis_id else None
        lines = untranslated.get((job.edition, job.chapter), set())
        catalog = export_catalog(
            basis,
            job.basis_tabs,
            translation,
            job.tabs,
            job.language,
            today,
            job.today_tabs,
            lines,
            {
                SKELETON_KEY: job.basis_id,
                "X-D2L-Edition": job.edition,
                "X-D2L-Chapter": job.chapter,
                # the basis's date: a fixed value, so an unchanged export is byte-identical
                "PO-Revision-Date": f"{_revision_date(lock, job.basis_id)} 00:00+0000",
            },
        )
        append_obsolete(
            catalog,
            (
                (r.path + ":" + str(r.line), r.english, r.text)
                for r in retired_of(job.edition)
                if r.chapter in (job.chapter, job.today_chapter) or (not r.chapter and r.path.endswith("/" + job.chapter))
            ),
        )
        problems = unreachable_blocks(basis, job.basis_tabs, translation, job.tabs)
        found.append(ChapterCatalog(job, catalog, counts(catalog), tuple(problems)))
    return found


def _revision_date(lock: Lock, revision_id: str) -> str:
    revision = lock.revision(revision_id)
    return revision.date if revision is not None and revision.date else "1970-01-01"


@dataclass(frozen=True)
class ImportedChapter:
    edition: str
    chapter: str
    text: str
    refused: tuple[Refusal, ...] = ()
    origin: str | None = None  # the x_origin.md with the blocks the translator brought up to date


# A PO file's lines: comments, keywords with one quoted string, or continuation strings.
_PO_LINE = re.compile(
    r'(?:#.*|(?:#~\s*)?(?:msgctxt|msgid|msgid_plural|msgstr(?:\[\d+\])?)\s+"(?:[^"\\]|\\.)*"'
    r'|(?:#~\s*)?"(?:[^"\\]|\\.)*")\s*'
)


def check_po_syntax(po_file: Path, text: str) -> None:
    """Refuse what polib would read leniently: an unquoted or half-quoted string would become
    a msgstr with its first and last characters cut off."""
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if stripped and not _PO_LINE.fullmatch(stripped):
            raise ConfigError(
                f"{po_file}:{number}: not valid PO syntax: {stripped[:60]!r} "
                '(each msgctxt/msgid/msgstr is followed by one "quoted string")'
            )


def read_catalog(po_file: Path) -> polib.POFile:
    try:
        text = po_file.read_bytes().decode("utf-8")
    except OSError as error:
        raise ConfigError(f"{po_file}: cannot read: {error.strerror}") from error
    except UnicodeDecodeError as error:
        raise ConfigError(f"{po_file}: not UTF-8 text: {error.reason}") from error
    if len(text) > MAX_PO_CHARACTERS:
        raise ConfigError(
            f"{po_file}: {len(text):,} characters; a chapter's PO file is far smaller (at most "
            f"{MAX_PO_CHARACTERS:,}): not imported"
        )
    check_po_syntax(po_file, text)
    try:
        catalog = polib.pofile(text)
    except (OSError, ValueError) as error:
        raise ConfigError(f"{po_file}: not a readable PO file: {error}") from error
    seen: dict[str, int] = {}
    for entry in catalog:
        if entry.obsolete or not entry.msgctxt:
            continue
        if len(entry.msgstr) > MAX_MSGSTR_CHARACTERS:
            raise ConfigError(
                f"{po_file}:{entry.linenum}: {entry.msgctxt}: a msgstr of {len(entry.msgstr):,} characters "
                f"(a segment is at most {MAX_MSGSTR_CHARACTERS:,}): not imported"
            )
        if entry.msgctxt in seen:
            raise ConfigError(
                f"{po_file}:{entry.linenum}: msgctxt {entry.msgctxt!r} again (first at line "
                f"{seen[entry.msgctxt]}): which translation is meant? Keep one"
            )
        seen[entry.msgctxt] = entry.linenum or 0
    return catalog


def is_chapter_path(chapter: str) -> bool:
    """``index.md`` or a markdown file under ``chapter_*/``, relative, with no ``..``: what a
    PO file may write (never ``d2l/*.py``, ``x_origin.md``, ``config.ini`` or anything else)."""
    path = PurePosixPath(chapter)
    if path.is_absolute() or "\\" in chapter or any(part in ("", ".", "..") for part in chapter.split("/")):
        return False
    if chapter == "index.md":
        return True
    return (
        len(path.parts) >= 2
        and path.parts[0].startswith("chapter_")
        and path.suffix == ".md"
        and not is_origin(chapter)
    )


class TodaysChapters:
    """Each translated file's job (its today's English chapter, found by labels), read once
    for all the PO files one import reads."""

    def __init__(self, config: ProjectConfig) -> None:
        self.config = config
        self._jobs: dict[Path, ChapterJob] | None = None

    def job(self, translation: Path) -> ChapterJob | None:
        if self._jobs is None:
            jobs, _, _ = project_jobs(self.config, (), ChapterStore(self.config.root))
            self._jobs = {j.translation.resolve(): j for j in jobs}
        return self._jobs.get(translation.resolve())


def import_file(
    config: ProjectConfig,
    po_file: Path,
    editions: tuple[str, ...] = (),
    todays: TodaysChapters | None = None,
) -> ImportedChapter:
    """The translated chapter one PO file describes: its header names edition, chapter and
    English skeleton, which must agree with where the file lies (``po/<edition>/<chapter>.po``),
    with ``editions`` when given, with the edition's language and with its basis."""
    catalog = read_catalog(po_file)
    revision = catalog.metadata.get(SKELETON_KEY)
    chapter = catalog.metadata.get("X-D2L-Chapter")
    edition_id = catalog.metadata.get("X-D2L-Edition")
    if not revision or not chapter or not edition_id:
        raise ConfigError(
            f"{po_file}: no {SKELETON_KEY} / X-D2L-Chapter / X-D2L-Edition header: export it with `toolkit po export`"
        )
    edition_dir = config.translations_dir / edition_id
    if "/" in edition_id or not (edition_dir / "edition.toml").is_file():
        raise ConfigError(f"{po_file}: edition {edition_id!r} is not in {config.translations_dir}")
    if editions and edition_id not in editions:
        raise ConfigError(
            f"{po_file}: a PO file of edition {edition_id} (X-D2L-Edition), not of {', '.join(editions)}"
        )
    if not is_chapter_path(chapter):
        raise ConfigError(
            f"{po_file}: X-D2L-Chapter {chapter!r} is not a chapter path (index.md or chapter_*/NAME.md, "
            "inside the edition): a PO file writes chapters only"
        )
    try:
        where = po_file.resolve().relative_to(config.po_dir.resolve())
    except ValueError as error:
        raise ConfigError(
            f"{po_file}: PO files are imported from {config.po_dir} (po/<edition>/<chapter>.po), where "
            "`toolkit po export` writes them: their place is checked against their header"
        ) from error
    expected = Path(edition_id) / (chapter[: -len(".md")] + ".po")
    if where != expected:
        raise ConfigError(
            f"{po_file}: its header says edition {edition_id}, chapter {chapter} (po/{expected}): "
            "a PO file of another edition or chapter"
        )
    edition = load_edition(edition_dir)
    language = catalog.metadata.get("Language", "")
    if language and language != edition.language:
        raise ConfigError(
            f"{po_file}: Language {language!r}, but edition {edition_id} is {edition.language!r}"
        )
    lock = load_lock(config.source_dir / "LOCK.toml")
    target = edition_dir / chapter
    if any(p.is_symlink() for p in (target, *target.parents) if p == edition_dir or edition_dir in p.parents):
        raise ConfigError(f"{po_file}: {target} is a symbolic link: a PO import never writes through one")
    basis = file_basis(config, lock, edition, target)
    if basis is None:
        raise ConfigError(f"{po_file}: {chapter} has no English basis in {edition_id} (run `toolkit sync`)")
    skeleton_path, basis_id, basis_tabs = basis
    if revision != basis_id:
        raise ConfigError(
            f"{po_file}: English skeleton {revision}, but {edition_id}'s {chapter} is translated from "
            f"{basis_id}: export it again"
        )
    store = ChapterStore(config.root)
    translation = store.get(target) if target.is_file() else None
    try:
        imported = import_catalog(store.get(skeleton_path), catalog, translation, basis_tabs, edition.tabs)
    except CatalogError as error:
        raise ConfigError(f"{po_file}: {error}") from error
    origin = None
    if basis_id == "origin" and target.is_file():
        today = (todays or TodaysChapters(config)).job(target)
        if today is not None and today.today is not None:
            origin = accepted_origin(
                store.get(skeleton_path), basis_tabs, store.get(today.today), today.today_tabs, catalog
            )
    return ImportedChapter(edition_id, chapter, imported.text, imported.refused, origin)
