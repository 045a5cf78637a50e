"""Checking translations: one chapter (pair mode) or the whole project.

Pure orchestration over parse -> align -> rules; no argument parsing, no printing. Chapters
are parsed once per run (``ChapterStore``), whatever number of editions share an English file.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, cast

from toolkit.cache import ResultCache, file_version
from toolkit.config import ConfigError, Edition, Lock, ProjectConfig, load_editions, load_lock
from toolkit.findings import Finding
from toolkit.sources import verify_sources
from toolkit.workers import CheckWorkers

if TYPE_CHECKING:
    from toolkit.align import Alignment
    from toolkit.checks import LanguageJudge
    from toolkit.model import Chapter

# The parser, aligner and rules are imported where a chapter is parsed, not at import: a
# warm run answered from the cache never loads them.


class ChapterStore:
    """Parses each file once and names it by a path relative to the project.

    A file is parsed again when its ``file_version`` (inode, mtime, size) changes, so a
    long-lived process (``mkdocs serve``) sees an edited chapter and reuses every other one: an
    unchanged file gives back the very same ``Chapter`` object, which callers may use as a
    cache key.
    A path is resolved (symbolic links followed) the first time the store sees it."""

    def __init__(self, root: Path | None = None) -> None:
        self.root = root
        self._chapters: dict[Path, tuple[tuple[int, int, int], Chapter]] = {}
        self._labels: dict[Path, tuple[tuple[int, int, int], tuple[str, ...]]] = {}
        self._resolved: dict[Path, Path] = {}

    def _key(self, path: Path) -> Path:
        key = self._resolved.get(path)
        if key is None:
            key = self._resolved[path] = path.resolve()
        return key

    def display(self, path: Path) -> str:
        if self.root is not None:
            try:
                return str(path.resolve().relative_to(self.root.resolve()))
            except ValueError:
                pass
        return str(path)

    def get(self, path: Path) -> Chapter:
        from toolkit.parser import parse_chapter

        key = self._key(path)
        try:
            version = file_version(key)
        except OSError as error:
            raise ConfigError(f"{path}: cannot read: {error.strerror}") from error
        known = self._chapters.get(key)
        if known is not None and known[0] == version:
            return known[1]
        try:
            data = path.read_bytes()
        except OSError as error:
            raise ConfigError(f"{path}: cannot read: {error.strerror}") from error
        chapter = parse_chapter(self.display(path), data)
        self._chapters[key] = (version, chapter)
        return chapter

    def labels(self, path: Path) -> list[str]:
        """The labels the file defines, in document order: from a worker that parsed it
        (``remember_labels``) while the file is unchanged, else from parsing it here."""
        key = self._key(path)
        known = self._labels.get(key)
        if known is not None and known[0] == file_version(key):
            return list(known[1])
        return list(dict.fromkeys(label for label, _ in self.get(path).labels))

    def remember_labels(self, path: Path, labels: list[str]) -> None:
        """Keep the labels another process parsed from the file as it is now."""
        key = self._key(path)
        self._labels[key] = (file_version(key), tuple(labels))


@dataclass(frozen=True)
class ChapterJob:
    """One translated chapter and the English it is checked against."""

    translation: Path
    tabs: tuple[str, ...]
    language: str
    edition: str
    chapter: str
    basis: Path | None  # None: no English basis (no x_origin.md, no English at the revision)
    basis_id: str
    basis_tabs: tuple[str, ...]
    today: Path | None = None
    today_id: str = ""
    today_tabs: tuple[str, ...] = ()
    candidates: tuple[tuple[str, Path, tuple[str, ...]], ...] = ()
    today_chapter: str = ""  # today's English chapter, when its path differs (found by labels)
    glossary: Path | None = None  # the edition's own glossary (TERMINOLOGY.md, glossary.md)


@dataclass(frozen=True)
class ChapterResult:
    job: ChapterJob
    findings: tuple[Finding, ...]


@dataclass
class RunResult:
    results: list[ChapterResult] = field(default_factory=list)

    @property
    def findings(self) -> list[Finding]:
        return [f for r in self.results for f in r.findings]


def score_basis(
    translation: Chapter, tabs: tuple[str, ...], english: Chapter, english_tabs: tuple[str, ...]
) -> float:
    """How closely a translation keeps one English revision's invariant parts (0..1).

    Code cells score on their tab header as written, their code and whether their
    docstrings/comments stand where English has them; other anchors on equal signatures.
    """
    from toolkit.align import align_chapters, make_units
    from toolkit.code import normalise_code, saved_code
    from toolkit.model import CodeCell

    alignment = align_chapters(english, translation, english_tabs, tabs)
    matched = 0.0
    for pair in alignment.pairs:
        if pair.en is None or pair.tr is None or not pair.en.strong:
            continue
        en, tr = pair.en.block, pair.tr.block
        if isinstance(en, CodeCell) and isinstance(tr, CodeCell):
            if normalise_code(en.code) != normalise_code(tr.code):
                continue
            score = 0.5
            score += 0.3 if en.header == tr.header else 0.0
            same_shape = len(en.code.splitlines()) == len(tr.code.splitlines())
            score += 0.2 if same_shape and saved_code(en.code) == saved_code(tr.code) else 0.0
            matched += score
        elif pair.en.signature == pair.tr.signature:
            matched += 1.0
    total = sum(u.strong for u in make_units(english, english_tabs)) + sum(
        u.strong for u in make_units(translation, tabs)
    )
    return 2 * matched / total if total else 0.0


def english_alignment(
    basis: Chapter, today: Chapter, basis_tabs: tuple[str, ...], today_tabs: tuple[str, ...]
) -> Alignment:
    """How today's English moved on from a basis: aligned once for every edition made from
    that basis (kept with the basis chapter, and only while ``today`` is the same object)."""
    from toolkit.align import align_chapters

    key = ("moved-on", basis_tabs, today_tabs)
    known = basis.derived.get(key)
    if isinstance(known, tuple) and known[0] is today:
        return cast("Alignment", known[1])
    alignment = align_chapters(basis, today, basis_tabs, today_tabs, same_language=True)
    basis.derived[key] = (today, alignment)
    return alignment


def check_job(
    job: ChapterJob,
    store: ChapterStore,
    book_labels: frozenset[str] = frozenset(),
    detector: LanguageJudge | None = None,
    select: Iterable[str] = (),
    ignore: Iterable[str] = (),
) -> ChapterResult:
    from toolkit.align import align_chapters
    from toolkit.checks import BasisCandidate, CheckContext, run_rules
    from toolkit.glossary import load_glossary

    if job.basis is None:
        # nothing to align with: the translation against an empty chapter, and only the rules
        # that say so run (S004), with suppressions, --select and --ignore as every rule
        from toolkit.model import Chapter

        translation = store.get(job.translation)
        nothing = align_chapters(Chapter("", "", ()), translation, job.tabs, job.tabs)
        context = CheckContext(nothing, job.language, job.edition, job.chapter, "", no_basis=True)
        return ChapterResult(job, tuple(run_rules(context, select, ignore)))
    translation = store.get(job.translation)
    basis = store.get(job.basis)
    alignment = align_chapters(basis, translation, job.basis_tabs, job.tabs)
    staleness = None
    if job.today is not None and job.today.resolve() != job.basis.resolve():
        today = store.get(job.today)
        if today.text != basis.text:
            staleness = english_alignment(basis, today, job.basis_tabs, job.today_tabs)
    candidates = tuple(
        BasisCandidate(revision, score_basis(translation, job.tabs, store.get(path), tabs))
        for revision, path, tabs in job.candidates
    )
    context = CheckContext(
        alignment=alignment,
        language=job.language,
        edition=job.edition,
        chapter=job.chapter,
        basis=job.basis_id,
        book_labels=book_labels,
        staleness=staleness,
        today=job.today_id,
        basis_candidates=candidates,
        detector=detector,
        missing_today=job.today is None and bool(job.today_id),
        glossary=load_glossary(job.glossary) if job.glossary is not None else None,
        today_chapter=job.today_chapter if job.today_chapter != job.chapter else "",
    )
    return ChapterResult(job, tuple(run_rules(context, select, ignore)))


def ordered_labels(store: ChapterStore, cache: ResultCache | None = None) -> Callable[[Path], list[str]]:
    """A function giving a file's labels in document order (cached by content when it can)."""

    if cache is None:
        return store.labels
    return lambda path: cache.labels(path, lambda: store.labels(path))


def file_basis(
    config: ProjectConfig, lock: Lock, edition: Edition, path: Path
) -> tuple[Path, str, tuple[str, ...]] | None:
    """(file, id, tabs) of the English a translated file was made from, or None: its
    ``x_origin.md`` (in the edition's tabs: it is the English the edition was built with), else
    the edition's declared revision at the same path, else English at the release the
    edition's ``config.ini`` names (``english/v0.17.1/``: a v0.17 edition's ``index.md``)."""
    from toolkit.book.basis import origin_of
    from toolkit.book.history import edition_release, release_file

    origin = origin_of(path)
    if origin.is_file():
        return origin, "origin", edition.tabs
    revision = lock.revision(edition.basis)
    assert revision is not None  # checked by project_jobs
    chapter = path.relative_to(edition.directory)
    english = config.source_dir / revision.id / chapter
    if english.is_file():
        return english, revision.id, revision.tabs
    # a v0.17 edition's file without x_origin.md was made from English at its release
    release = edition_release(edition.directory)
    at_release = release_file(config.english_dir, release, chapter.as_posix())
    return (at_release, f"v{release}", edition.tabs) if at_release is not None else None


def project_jobs(
    config: ProjectConfig,
    only: Iterable[Path] = (),
    store: ChapterStore | None = None,
    cache: ResultCache | None = None,
    workers: CheckWorkers | None = None,
) -> tuple[list[ChapterJob], Lock, list[Edition]]:
    """Every translated chapter of every edition (or those under ``only``), each with its own
    basis and today's English chapter found by its labels (``toolkit.book.basis``). A file
    with no English basis becomes a job without one (reported by the checker). With
    ``workers`` (sharing ``store``), the files whose labels are not cached are parsed there."""
    from toolkit.book.basis import chapter_files, english_index, map_to_today, shared_lines
    from toolkit.book.history import load_history
    from toolkit.glossary import find_glossary

    lock = load_lock(config.source_dir / "LOCK.toml")
    problems = verify_sources(lock, config.source_dir)
    if problems:
        raise ConfigError("English sources are not set up:\n" + "\n".join(problems))
    editions = load_editions(config)
    today = lock.today
    wanted = [p.resolve() for p in only]
    store = store if workers is None else workers.store
    labels_of = ordered_labels(store or ChapterStore(config.root), cache)
    for edition in editions:
        if lock.revision(edition.basis) is None:
            known = ", ".join(r.id for r in lock.revisions)
            raise ConfigError(
                f"{edition.directory / 'edition.toml'}: basis {edition.basis} is not a revision in {lock.path} ({known})"
            )
    # every chapter of every edition, also when only some are checked: the mapping to today's
    # English is one to one within an edition, so a chapter maps the same in every run
    every = [
        (edition, path, file_basis(config, lock, edition, path))
        for edition in editions
        for path in chapter_files(edition.directory)
    ]
    chapters = [
        entry
        for entry in every
        if not wanted or any(w == (r := entry[1].resolve()) or w in r.parents for w in wanted)
    ]
    if workers is not None:
        needed = [
            *chapter_files(config.source_dir / today.id),
            *(p for _, path, basis in every for p in (path, *(basis[:1] if basis else ()))),
        ]
        workers.prefetch_labels(p for p in needed if cache is None or not cache.has_labels(p))
    index = english_index(config.source_dir / today.id, labels_of)
    history = load_history(config.english_dir, config.source_dir)
    mappings: dict[str, dict[str, str | None]] = {}
    texts: dict[Path, str] = {}  # read once per call: a long-lived `mkdocs serve` sees edits

    def text(path: Path) -> str:
        if path not in texts:
            texts[path] = path.read_bytes().decode("utf-8", "surrogateescape")
        return texts[path]

    for edition in editions:
        labelled: dict[str, list[str]] = {}
        english_of: dict[str, Path] = {}  # the English each chapter was made from (or itself)
        for owner, path, basis in every:
            if owner is edition:
                chapter = str(path.relative_to(edition.directory))
                english_of[chapter] = basis[0] if basis is not None else path
                labelled[chapter] = labels_of(english_of[chapter]) or labels_of(path)

        def similarity(chapter: str, today_chapter: str, english_of: dict[str, Path] = english_of) -> float:
            return shared_lines(text(english_of[chapter]), text(index.root / today_chapter))

        mappings[edition.id] = map_to_today(
            labelled, index, lambda chapter: labels_of(index.root / chapter), history.renamed, similarity
        )
    jobs: list[ChapterJob] = []
    glossaries = {edition.id: find_glossary(edition.directory) for edition in editions}
    for edition, path, basis in chapters:
        glossary = glossaries[edition.id]
        chapter = str(path.relative_to(edition.directory))
        mapped = mappings[edition.id].get(chapter)
        today_file = config.source_dir / today.id / mapped if mapped is not None else None
        candidates: tuple[tuple[str, Path, tuple[str, ...]], ...] = ()
        if basis is not None and basis[1] != "origin":
            candidates = tuple(
                (r.id, config.source_dir / r.id / chapter, r.tabs)
                for r in lock.revisions
                if (config.source_dir / r.id / chapter).is_file()
            )
        jobs.append(
            ChapterJob(
                translation=path,
                tabs=edition.tabs,
                language=edition.language,
                edition=edition.id,
                chapter=chapter,
                basis=basis[0] if basis is not None else None,
                basis_id=basis[1] if basis is not None else "",
                basis_tabs=basis[2] if basis is not None else edition.tabs,
                today=today_file,
                today_id=today.id,
                today_tabs=today.tabs,
                candidates=candidates if len(candidates) > 1 else (),
                today_chapter=mapped or "",
                glossary=glossary,
            )
        )
    if wanted and not jobs:
        raise ConfigError("no translated chapter under " + ", ".join(str(p) for p in only))
    return jobs, lock, editions


def book_labels_for(
    jobs: list[ChapterJob], store: ChapterStore, cache: ResultCache | None = None
) -> dict[str, frozenset[str]]:
    """Per edition: labels defined anywhere in its chapters or in the English sources (read
    through the same cached label lists ``project_jobs`` uses to map chapters)."""
    from toolkit.book.basis import chapter_files

    labels_of = ordered_labels(store, cache)
    english: set[str] = set()
    # every chapter of today's English: the site shows one an edition lacks in English, so a
    # reference to it resolves (an updated v0.17 edition points at chapters it has not yet)
    roots = set()
    for job in jobs:
        if job.today is not None and job.today_chapter:
            root = job.today
            for _ in Path(job.today_chapter).parts:
                root = root.parent
            roots.add(root)
    todays = [path for root in sorted(roots) for path in chapter_files(root)]
    for path in sorted({*(j.basis for j in jobs if j.basis), *(j.today for j in jobs if j.today), *todays}):
        english.update(labels_of(path))
    per_edition: dict[str, set[str]] = {}
    for job in jobs:
        per_edition.setdefault(job.edition, set(english)).update(labels_of(job.translation))
    return {edition: frozenset(labels) for edition, labels in per_edition.items()}


def _cache_key(
    cache: ResultCache,
    job: ChapterJob,
    labels: frozenset[str],
    select: tuple[str, ...],
    ignore: tuple[str, ...],
) -> str:
    files = [
        job.translation,
        *([job.basis] if job.basis else []),
        *([job.today] if job.today else []),
        *([job.glossary] if job.glossary else []),
        *(p for _, p, _ in job.candidates),
    ]
    parts = [
        repr(job.tabs),
        job.language,
        job.edition,
        job.chapter,
        str(job.translation),
        str(job.basis),
        job.basis_id,
        repr(job.basis_tabs),
        job.today_id,
        repr(job.today_tabs),
        repr([(revision, tabs) for revision, _, tabs in job.candidates]),
        ",".join(sorted(labels)),
        ",".join(select),
        ",".join(ignore),
    ]
    return cache.key(parts, files)


#: Below this many chapters to check, a second process costs more than it saves.
PARALLEL_FROM = 24


def check_jobs(
    jobs: list[ChapterJob],
    store: ChapterStore,
    detector: LanguageJudge | None,
    select: Iterable[str] = (),
    ignore: Iterable[str] = (),
    progress: Callable[[ChapterJob], None] | None = None,
    cache: ResultCache | None = None,
    workers: CheckWorkers | None = None,
    labels_from: list[ChapterJob] | None = None,
) -> RunResult:
    """Check every job. The book's labels (what a reference may point at) come from
    ``labels_from`` (default: ``jobs``): checking only some editions of a project still gives
    each the findings of a check of the whole project. With a ``cache``, a chapter whose
    inputs did not change is neither parsed nor checked again. The chapters to check go to ``workers`` (those that parsed
    their files when ``project_jobs`` was given them); without, many chapters are shared
    between worker processes forked now, one per core, that inherit the parsed chapters.
    Results keep the jobs' order."""
    import os

    from toolkit.language import LanguageDetector

    select, ignore = tuple(select), tuple(ignore)
    labels = book_labels_for(labels_from if labels_from is not None else jobs, store, cache)
    found: dict[int, ChapterResult] = {}
    keys: dict[int, str] = {}
    pending: list[int] = []
    for index, job in enumerate(jobs):
        book = labels.get(job.edition, frozenset())
        keys[index] = _cache_key(cache, job, book, select, ignore) if cache is not None else ""
        cached = cache.get(keys[index]) if cache is not None else None
        if cached is not None:
            found[index] = ChapterResult(job, tuple(cached))
            if progress is not None:
                progress(job)
        else:
            pending.append(index)
    shareable = detector is None or isinstance(detector, LanguageDetector)
    cores = os.cpu_count() or 1
    own = workers is None and cores > 1 and len(pending) >= PARALLEL_FROM and shareable
    pool = CheckWorkers(store, cores) if own else workers if shareable else None
    if pool is not None and pending:
        judgements = detector.cache if isinstance(detector, LanguageDetector) else None
        try:
            checked = pool.check([jobs[i] for i in pending], labels, judgements, select, ignore)
            for chunk, results, made, calls in checked:
                if isinstance(detector, LanguageDetector):
                    detector.model_calls += calls
                    if made:
                        detector.cache.update(made)
                        detector.dirty = True
                for position, result in zip(chunk, results, strict=True):
                    found[pending[position]] = result
                    if progress is not None:
                        progress(result.job)
        finally:
            if own:
                pool.close()
    else:
        for index in pending:
            job = jobs[index]
            if progress is not None:
                progress(job)
            found[index] = check_job(
                job, store, labels.get(job.edition, frozenset()), detector, select, ignore
            )
    if cache is not None:
        for index in pending:
            cache.put(keys[index], list(found[index].findings))
    return RunResult([found[index] for index in range(len(jobs))])
