"""The project's catalogs: one per edition and chapter, from the markdown the editions keep.

The markdown files stay the editions' source of truth; ``po/<edition>/<chapter>.po`` is made
from them (export) and turned back into them (import). Nothing here parses arguments.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import polib

from toolkit.cache import ResultCache
from toolkit.checker import ChapterJob, ChapterStore, check_jobs, project_jobs
from toolkit.config import ConfigError, Lock, ProjectConfig, load_lock
from toolkit.language import LanguageDetector
from toolkit.po.catalog import Counts, Problem, counts, export_catalog, import_catalog, round_trip_problems

SKELETON_KEY = "X-D2L-Skeleton"


@dataclass(frozen=True)
class ChapterCatalog:
    job: ChapterJob
    catalog: polib.POFile
    counts: Counts
    problems: tuple[Problem, ...]  # why the file does not round-trip (empty when it does)

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
    jobs, lock, known = project_jobs(config, paths)
    unknown = sorted(set(editions) - {e.id for e in known})
    if unknown:
        raise ConfigError(f"unknown edition(s) {', '.join(unknown)}; known: {', '.join(e.id for e in known)}")
    jobs = [j for j in jobs if not editions or j.edition in editions]
    store = ChapterStore(config.root)
    untranslated = _untranslated(config, jobs, store)
    found = []
    for job in jobs:
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
        rebuilt = import_catalog(basis, catalog)
        problems = round_trip_problems(basis, job.basis_tabs, translation, job.tabs, rebuilt, lines)
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


def import_file(config: ProjectConfig, po_file: Path) -> ImportedChapter:
    """The translated chapter one PO file describes (its header names edition, chapter and
    English skeleton)."""
    try:
        catalog = polib.pofile(str(po_file))
    except (OSError, ValueError) as error:
        raise ConfigError(f"{po_file}: not a readable PO file: {error}") from error
    revision = catalog.metadata.get(SKELETON_KEY)
    chapter = catalog.metadata.get("X-D2L-Chapter")
    edition = catalog.metadata.get("X-D2L-Edition")
    if not revision or not chapter or not edition:
        raise ConfigError(
            f"{po_file}: no {SKELETON_KEY} / X-D2L-Chapter / X-D2L-Edition header: export it with `toolkit po export`"
        )
    if not (config.translations_dir / edition / "edition.toml").is_file():
        raise ConfigError(f"{po_file}: edition {edition!r} is not in {config.translations_dir}")
    lock = load_lock(config.source_dir / "LOCK.toml")
    if lock.revision(revision) is None:
        raise ConfigError(f"{po_file}: skeleton revision {revision} is not in {lock.path}")
    skeleton_path = config.source_dir / revision / chapter
    if not skeleton_path.is_file():
        raise ConfigError(
            f"{po_file}: English skeleton {skeleton_path} is missing (run `toolkit sync-sources`)"
        )
    store = ChapterStore(config.root)
    return ImportedChapter(edition, chapter, import_catalog(store.get(skeleton_path), catalog))
