"""The published book: which page each language has, and the Markdown of every page.

Invariants:
- English and the editions made from today's English have today's chapters, at the same
  paths under their prefix (``en/``, ``ko/``, ``id/``); a chapter such an edition lacks is
  today's English with a banner saying so (``fallback``). A v0.17 edition (its basis is not
  today's English: tr, vi) keeps its own structure: its toc blocks' chapters, order,
  numbers and paths. Every chapter page knows which of today's chapters it is (``same_as``,
  by labels: the checker's mapping), so the language switcher leads to the same section
  across structures, or to a language's landing page where it has none, never to a 404.
- One edition is published per language: the one named in the options (``editions`` in
  mkdocs.yml), which must name one when a language has several, else its only edition.
- Numbers, labels and outputs come from the parsed model (``lower``), the run-cells manifests
  under ``build/cells`` and the check-alignment findings; nothing here executes code.
- Reading the project is the only I/O; the result is plain data the MkDocs plugin turns into
  files.
"""

from __future__ import annotations

import hashlib
import html
import posixpath
import re
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from functools import cache, cached_property, partial
from pathlib import Path
from typing import Any, Literal, TypeVar, cast

import jinja2

from toolkit.book.basis import chapter_files
from toolkit.book.toc import book_toc
from toolkit.cache import ResultCache, file_version
from toolkit.checker import ChapterStore, RunResult, check_jobs, project_jobs
from toolkit.code import is_tooling_cell
from toolkit.config import ConfigError, Edition, Lock, ProjectConfig, load_editions, load_lock
from toolkit.execute.results import ChapterManifest
from toolkit.findings import Finding
from toolkit.languages import published_languages
from toolkit.model import Chapter, CodeCell, iter_blocks
from toolkit.site.bibliography import Reference, load_bibliography
from toolkit.site.lower import (
    EXECUTED_FRAMEWORKS,
    TAB_TITLES,
    LoweredPage,
    PageContext,
    Target,
    bib_anchor,
    is_references_chapter,
    lower_chapter,
    number_chapter,
    outputs_from_manifest,
    with_english_equations,
)
from toolkit.site.notebooks import chapter_notebook, notebook_frameworks
from toolkit.site.words import Words, words_for

PageKind = Literal["chapter", "landing", "status", "status-part", "bibliography"]
T = TypeVar("T")
LANGUAGES = published_languages()  # every language of toolkit/languages.toml
STALE_CODES = ("S001",)
UNTRANSLATED_CODES = ("P001",)


def _places(findings: Iterable[Finding], codes: tuple[str, ...]) -> int:
    """How many blocks findings of ``codes`` name: a grouped finding counts its items."""
    return sum(max(len(f.items), 1) for f in findings if f.code in codes)


TEMPLATES = jinja2.Environment(
    loader=jinja2.PackageLoader("toolkit.site", "templates"),
    autoescape=False,  # the templates write Markdown, not HTML
    keep_trailing_newline=True,
    trim_blocks=True,
    lstrip_blocks=True,
    undefined=jinja2.StrictUndefined,
)


def table_text(message: str) -> str:
    r"""A finding's message as one Markdown table cell that renders as written: HTML-escaped,
    its `code` spans as <code> (entities inside a Markdown code span would show literally:
    `&#92;mathbf`), and every character Markdown, a table or MathJax would read (``\``, ``|``,
    ``*``, ``_``, ``$``, ``[``) as an entity, so the message is text and nothing else."""
    special = {
        "\\": "&#92;",
        "|": "&#124;",
        "*": "&#42;",
        "_": "&#95;",
        "$": "&#36;",
        "[": "&#91;",
        "`": "&#96;",
    }

    def text(part: str) -> str:
        return "".join(special.get(c, c) for c in html.escape(re.sub(r"\s+", " ", part), quote=False))

    pieces = message.split("`")
    if len(pieces) % 2 == 0:  # an unpaired backtick: no code spans at all
        return text(message)
    return "".join(text(p) if i % 2 == 0 else f"<code>{text(p)}</code>" for i, p in enumerate(pieces))


TEMPLATES.filters["table_text"] = table_text


@dataclass(frozen=True)
class SiteOptions:
    # () : English and every language of languages.toml the project has an edition of
    languages: tuple[str, ...] = ()
    editions: Mapping[str, str] = field(default_factory=dict)  # language -> edition id
    chapter_numbers: Mapping[str, int] = field(default_factory=dict)  # chapter directory -> number


class BookCache:
    """What one long-lived process (``mkdocs serve``) keeps from one build of the book to the
    next, so that a rebuild after an edit redoes the edited chapter's work only.

    Invariant: an entry is reused only when every one of its inputs is equal to the previous
    build's (the chapter store gives back the very same parsed ``Chapter`` for an unchanged
    file; manifests are re-read when their file changes; a language's labels and references
    are compared whole), so a cached build publishes exactly what a fresh one does (tested).
    """

    def __init__(self, root: Path) -> None:
        self.store = ChapterStore(root)
        self._results: dict[Path, ResultCache] = {}
        self._manifests: dict[Path, tuple[tuple[int, int, int], ChapterManifest | None]] = {}
        self._values: dict[tuple[str, str], tuple[tuple[object, ...], Any]] = {}

    def results(self, cache_dir: Path) -> ResultCache:
        """check-alignment's result cache in ``cache_dir``, one object for every build (it
        remembers file digests, labels and findings)."""
        if cache_dir not in self._results:
            self._results[cache_dir] = ResultCache(cache_dir)
        return self._results[cache_dir]

    def manifest(self, path: Path) -> ChapterManifest | None:
        """run-cells' manifest at ``path`` (None when there is none, or it is not one), read
        again when it changes."""
        version = _version(path)
        if version == (0, 0, 0):
            return None
        known = self._manifests.get(path)
        if known is not None and known[0] == version:
            return known[1]
        manifest = ChapterManifest.load(path)
        self._manifests[path] = (version, manifest)
        return manifest

    def remember(self, kind: str, name: str, inputs: tuple[object, ...], make: Callable[[], T]) -> T:
        """``make()``, or what it gave last time for ``name`` when ``inputs`` are unchanged."""
        known = self._values.get((kind, name))
        if known is not None and known[0] == inputs:
            return cast(T, known[1])
        value = make()
        self._values[(kind, name)] = (inputs, value)
        return value

    def token(self, kind: str, name: str, value: object) -> object:
        """An object that stays the same while ``value`` stays equal: a cheap key for big inputs."""
        return self.remember(kind, name, (value,), object)


@dataclass(frozen=True)
class SitePage:
    path: str  # in the site, e.g. "ko/chapter_computational-performance/hybridize.md"
    language: str
    kind: PageKind
    title: str
    markdown: str
    chapter: str = ""  # the d2l path, for chapters
    fallback: bool = False
    images: tuple[tuple[str, Path], ...] = ()  # (path in the site, file on disk)
    citations: tuple[str, ...] = ()  # bibliography keys cited on the page
    parent: str = ""  # a section's chapter page (its index.md), for the navigation
    files: tuple[tuple[str, str], ...] = ()  # generated files (path in the site, text): notebooks
    same_as: str = ""  # today's English chapter this page is, for the switcher (default: chapter)

    @property
    def today_chapter(self) -> str:
        return self.same_as or self.chapter


@dataclass(frozen=True)
class LanguageSite:
    language: str
    words: Words
    edition: Edition | None  # None for English
    editions: tuple[Edition, ...]  # every edition of the language in the project
    pages: tuple[SitePage, ...]


@dataclass(frozen=True)
class Book:
    languages: tuple[LanguageSite, ...]
    missing_images: Mapping[str, tuple[str, ...]]  # image path -> pages showing only its caption
    unresolved: Mapping[str, tuple[str, ...]]  # label -> pages referring to it
    dead_links: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # link -> pages showing its text

    def alternates(self, chapter: str) -> list[dict[str, str]]:
        """The same chapter (today's English path) in every language, for the language
        switcher; a language without it leads to its landing page, never to a 404."""
        found = []
        for site in self.languages:
            landing = next(page for page in site.pages if page.kind == "landing")
            match = next(
                (p for p in site.pages if chapter and p.kind == "chapter" and p.today_chapter == chapter),
                landing,
            )
            found.append({"name": site.words.name, "lang": site.language, "link": page_url(match.path)})
        return found


def page_url(path: str) -> str:
    """The directory URL MkDocs gives a page (use_directory_urls), relative to the site root."""
    stem = path[: -len(".md")]
    if stem == "index" or stem.endswith("/index"):
        return stem[: -len("index")]
    return stem + "/"


def published_for(editions: Iterable[Edition]) -> tuple[str, ...]:
    """English, and each language of languages.toml one of ``editions`` is in (the table's
    order): a language no edition has would be a site of English fallbacks only."""
    present = {edition.language for edition in editions}
    return tuple(language for language in LANGUAGES if language == "en" or language in present)


def pick_edition(language: str, editions: list[Edition], lock: Lock, options: SiteOptions) -> Edition | None:
    candidates = [e for e in editions if e.language == language]
    chosen = options.editions.get(language)
    if chosen is not None:
        match = next((e for e in candidates if e.id == chosen), None)
        if match is None:
            names = ", ".join(e.id for e in candidates) or "none"
            raise ConfigError(
                f"site: edition {chosen!r} for {language!r} is not a {language} edition ({names})"
            )
        return match
    if not candidates:
        return None
    if len(candidates) > 1:
        # a new edition of a language never replaces the published one by itself
        names = ", ".join(e.id for e in candidates)
        raise ConfigError(
            f"site: {len(candidates)} editions of {language!r} ({names}): say which one the site publishes "
            f"in mkdocs.yml, plugins: d2l-i18n: editions: {{{language}: {candidates[0].id}}}"
        )
    return candidates[0]


def chapter_numbers(chapters: Iterable[str], options: SiteOptions) -> dict[str, str]:
    """``chapter_x/index.md`` -> "13", ``chapter_x/y.md`` -> "13.1" (files in name order)."""
    by_directory: dict[str, list[str]] = {}
    for chapter in sorted(chapters):
        by_directory.setdefault(posixpath.dirname(chapter), []).append(chapter)
    numbers: dict[str, str] = {}
    next_number = 1
    for directory in sorted(by_directory, key=lambda d: (d not in options.chapter_numbers, d)):
        chapter_number = options.chapter_numbers.get(directory, next_number)
        next_number = max(next_number, chapter_number) + 1
        files = sorted(by_directory[directory], key=lambda c: (not c.endswith("/index.md"), c))
        position = 0
        for chapter in files:
            if chapter.endswith("index.md"):
                numbers[chapter] = str(chapter_number)
            else:
                position += 1
                numbers[chapter] = f"{chapter_number}.{position}"
    return numbers


def _findings(
    config: ProjectConfig, store: ChapterStore, results: ResultCache, published: frozenset[str]
) -> tuple[
    dict[tuple[str, str], list[Finding]],
    dict[tuple[str, str], tuple[Path, tuple[str, ...]]],
    dict[tuple[str, str], str],
]:
    """check-alignment's findings per (edition, chapter) of the ``published`` editions (each
    what a check of the whole project gives it), through its content-hash caches; each
    chapter's English basis; and which of today's chapters each edition's chapter is
    ((edition, chapter) -> today's chapter, by labels)."""
    from toolkit.language import LanguageDetector

    jobs, _, _ = project_jobs(config, store=store, cache=results)
    detector = LanguageDetector(config.cache_dir / "language.json")
    shown = [job for job in jobs if job.edition in published]
    result: RunResult = check_jobs(shown, store, detector, cache=results, labels_from=jobs)
    detector.save()
    found: dict[tuple[str, str], list[Finding]] = {}
    for chapter_result in result.results:
        found[(chapter_result.job.edition, chapter_result.job.chapter)] = list(chapter_result.findings)
    today_of: dict[tuple[str, str], str] = {}
    bases: dict[tuple[str, str], tuple[Path, tuple[str, ...]]] = {}
    for job in jobs:
        if job.today_chapter:
            today_of[(job.edition, job.chapter)] = job.today_chapter
        if job.basis is not None:
            bases[(job.edition, job.chapter)] = (job.basis, job.basis_tabs)
    return found, bases, today_of


@dataclass(frozen=True)
class _Entry:
    chapter: str
    source: Path  # the file shown
    parsed: Chapter
    edition: str  # whose outputs and findings ("en" for English)
    tabs: tuple[str, ...]
    fallback: bool
    manifest: ChapterManifest | None  # run-cells' outputs for it (None when it never ran), read once
    own: str = ""  # the chapter's path in its edition when it differs from today's English
    same_as: str = ""  # today's English chapter this one is (by its labels), when not ``chapter``

    @property
    def own_chapter(self) -> str:
        """Where the shown file lives in its repository (findings, outputs, edit link)."""
        return self.own or self.chapter


IMAGE_SUFFIXES = frozenset({".svg", ".png", ".jpg", ".jpeg", ".gif", ".webp"})


FIGURES = "figures"  # the site's one folder of figures, shared by every language


@cache
def _figure_target(file: Path, version: tuple[int, int, int]) -> str:
    """Where a figure file goes in the site: ``figures/<digest>/<name>``, named by its bytes,
    so the same figure in five editions is one file (``version`` keys the cache: a figure
    redrawn in place gets a new digest)."""
    digest = hashlib.sha256(file.read_bytes()).hexdigest()[:12]
    return f"{FIGURES}/{digest}/{file.name}"


def _images(
    entry: _Entry, page_path: str, roots: tuple[Path, ...]
) -> tuple[dict[str, str], tuple[tuple[str, Path], ...]]:
    """Every image the chapter shows (figures and images inside paragraphs) that a book root
    has: the path the chapter writes -> the URL of the site's copy relative to the page, and
    (that copy's path in the site, the file). The file is the edition's own where it has one,
    else English's (an edition's ``img/`` holds only the figures it redrew)."""
    from toolkit.model import Figure, block_inline, iter_blocks

    present: dict[str, str] = {}
    copies: list[tuple[str, Path]] = []
    chapter_dir = posixpath.dirname(entry.chapter)
    for block, _ in iter_blocks(entry.parsed.blocks):
        paths = [block.path] if isinstance(block, Figure) else []
        inline = block_inline(block)
        # images, and links to files that are not pages ("! [caption](../img/x.svg)": a
        # machine translation's broken image is still a link to the figure)
        paths += (
            [link.url for link in inline.links if not link.url.endswith(".md")] if inline is not None else []
        )
        for path in paths:
            path = path.split("#", 1)[0]
            if not path or ":" in path or path.startswith("/") or path in present:
                continue
            if posixpath.splitext(path)[1].lower() not in IMAGE_SUFFIXES:
                continue  # the site carries figures, never an edition's other files (d2l/, config.ini)
            for root in roots:
                file = root / posixpath.normpath(posixpath.join(chapter_dir, path))
                if file.is_file() and root.resolve() in file.resolve().parents:
                    target = _figure_target(file, file_version(file))
                    present[path] = posixpath.relpath(target, posixpath.dirname(page_path))
                    copies.append((target, file))
                    break
    return present, tuple(copies)


def _version(path: Path) -> tuple[int, int, int]:
    """A file's or folder's ``file_version``, (0, 0, 0) when it is missing."""
    try:
        return file_version(path)
    except OSError:
        return (0, 0, 0)


def _dead_links(entry: _Entry, files: Mapping[str, str], chapters: frozenset[str]) -> frozenset[str]:
    """Relative link targets of the chapter that are neither a page of the book nor a file
    the site carries."""
    from toolkit.model import block_inline, iter_blocks

    dead = set()
    directory = posixpath.dirname(entry.chapter)
    for block, _ in iter_blocks(entry.parsed.blocks):
        inline = block_inline(block)
        for link in inline.links if inline is not None else ():
            url = link.url.split("#", 1)[0]
            if not url or link.image or ":" in link.url or link.url.startswith(("/", "#")):
                continue
            target = posixpath.normpath(posixpath.join(directory, url))
            if (url.endswith(".md") and target in chapters) or url in files:
                continue
            dead.add(link.url)
    return frozenset(dead)


@dataclass(frozen=True)
class _Structure:
    """Today's English book: its chapters in d2l's order, their numbers and parents."""

    chapters: tuple[str, ...]
    numbers: Mapping[str, str]
    parents: Mapping[str, str]

    @cached_property
    def chapter_set(self) -> frozenset[str]:
        return frozenset(self.chapters)


@dataclass(frozen=True)
class _Language:
    """What every chapter page of one language is lowered with (one per language and build)."""

    language: str
    words: Words
    edition: Edition | None
    english_root: Path
    structure: _Structure  # this language's book (a v0.17 edition keeps its own)
    labels: Mapping[str, Target]  # every label of the language's book
    citations: Mapping[str, str]  # bibliography key -> "Abadi et al., 2016"
    english_labels: Mapping[str, Target]
    published_english: frozenset[str]  # today's English chapters the site publishes
    # cheap, stable stand-ins for the big inputs above, for ``BookCache.remember``
    tokens: Mapping[str, object]


@dataclass
class _BuildLog:
    """What the build log names once, with the pages that show it."""

    missing: dict[str, list[str]] = field(default_factory=dict)  # image -> pages
    unresolved: dict[str, list[str]] = field(default_factory=dict)  # label -> pages
    dead_links: dict[str, list[str]] = field(default_factory=dict)  # url -> pages


def build_book(config: ProjectConfig, options: SiteOptions, cache: BookCache | None = None) -> Book:
    """Every page of every language; with the ``cache`` of an earlier build, only what changed
    since is lowered again."""
    cache = cache if cache is not None else BookCache(config.root)
    lock = load_lock(config.source_dir / "LOCK.toml")
    editions = load_editions(config)
    if not options.languages:
        options = replace(options, languages=published_for(editions))
    english_root = config.source_dir / lock.today.id
    structure = _english_structure(english_root, cache.store, options)
    # only the editions the site shows are checked (an English-only build checks none)
    published = frozenset(
        edition.id
        for language in options.languages
        if language != "en" and (edition := pick_edition(language, editions, lock, options)) is not None
    )
    findings, bases, today_of = _findings(config, cache.store, cache.results(config.cache_dir), published)
    english_labels: dict[str, Target] = {}
    log = _BuildLog()
    sites: list[LanguageSite] = []
    for language in options.languages:
        edition = None if language == "en" else pick_edition(language, editions, lock, options)
        # the edition's own d2l.bib where it keeps one (entries it translated), else English's
        references = {
            **load_bibliography(english_root / "d2l.bib"),
            **(load_bibliography(edition.directory / "d2l.bib") if edition is not None else {}),
        }
        own, entries = _language_entries(config, cache, language, edition, lock, structure, bases, today_of)
        # d2l's references chapter is the site's bibliography page (listed last, where it stood)
        entries = [entry for entry in entries if not is_references_chapter(entry.parsed)]
        labels = _language_labels(cache, language, entries, own, english_labels)
        if language == "en":
            english_labels = dict(labels)
        site = _language_context(
            cache,
            language,
            edition,
            english_root,
            own,
            labels,
            references,
            english_labels,
            structure,
            options,
        )
        chapter_pages = [_chapter_page(cache, site, entry, findings, log) for entry in entries]
        language_editions = tuple(e for e in editions if e.language == language)
        pages = [
            _landing(language, site.words, edition, language_editions, chapter_pages, lock),
            *chapter_pages,
        ]
        pages.extend(_status_pages(cache, site, entries, chapter_pages, findings))
        pages.append(_bibliography_page(cache, site, chapter_pages, references))
        sites.append(LanguageSite(language, site.words, edition, language_editions, tuple(pages)))
    return Book(
        tuple(sites),
        {k: tuple(v) for k, v in log.missing.items()},
        {k: tuple(v) for k, v in log.unresolved.items()},
        {k: tuple(v) for k, v in log.dead_links.items()},
    )


def _english_structure(english_root: Path, store: ChapterStore, options: SiteOptions) -> _Structure:
    """d2l's own order and numbers (its toc blocks); chapters no toc lists follow, numbered
    by directory (a project holding a few chapters only)."""
    english_chapters = sorted(str(p.relative_to(english_root)) for p in chapter_files(english_root))
    if not english_chapters:
        raise ConfigError(f"{english_root}: no English chapters (run `toolkit sync`)")
    toc = [
        entry
        for entry in book_toc(english_root, store.get)
        if entry.chapter in english_chapters and entry.chapter != "index.md"
    ]
    listed = {entry.chapter for entry in toc}
    rest = [chapter for chapter in english_chapters if chapter not in listed and chapter != "index.md"]
    return _Structure(
        tuple([entry.chapter for entry in toc] + rest),
        {**chapter_numbers(rest, options), **{entry.chapter: entry.number for entry in toc}},
        {entry.chapter: entry.parent for entry in toc},
    )


def _language_entries(
    config: ProjectConfig,
    cache: BookCache,
    language: str,
    edition: Edition | None,
    lock: Lock,
    english: _Structure,
    bases: Mapping[tuple[str, str], tuple[Path, tuple[str, ...]]],
    today_of: Mapping[tuple[str, str], str],
) -> tuple[_Structure, list[_Entry]]:
    """The language's book and the chapter each of its pages shows. A v0.17 edition keeps its
    own structure (its toc blocks, numbers and paths), each page still knowing which of today's
    chapters it is (by labels) for the switcher; any other language follows today's English,
    showing English's chapter where the edition has none."""
    today = lock.today
    english_root = config.source_dir / today.id
    own_toc = (
        [e for e in book_toc(edition.directory, cache.store.get) if e.chapter != "index.md"]
        if edition is not None and edition.basis != today.id
        else []
    )
    if own_toc and edition is not None:
        own = _Structure(
            tuple(e.chapter for e in own_toc),
            {e.chapter: e.number for e in own_toc},
            {e.chapter: e.parent for e in own_toc},
        )
        return own, [
            _own_entry(config, cache, edition, chapter, today_of.get((edition.id, chapter), ""), bases)
            for chapter in own.chapters
        ]
    # (edition, today's chapter) -> the edition's file at another path (a v0.17 layout)
    moved: dict[tuple[str, str], str] = {}
    for (edition_id, chapter), today_chapter in today_of.items():
        if today_chapter != chapter:
            moved.setdefault((edition_id, today_chapter), chapter)
    entries: list[_Entry] = []
    for chapter in english.chapters:
        own_path = chapter
        if edition is not None and not (edition.directory / chapter).is_file():
            own_path = moved.get((edition.id, chapter), chapter)  # a v0.17 file, mapped by its labels
        translated = edition.directory / own_path if edition else None
        if edition is not None and translated is not None and translated.is_file():
            shown, shown_edition, tabs, fallback = translated, edition.id, edition.tabs, False
        else:
            own_path = chapter
            shown, shown_edition, tabs, fallback = english_root / chapter, "en", today.tabs, language != "en"
        basis = bases.get((shown_edition, own_path)) if not fallback else None
        entries.append(
            _Entry(
                chapter,
                shown,
                _with_basis_equations(cache, shown, basis, tabs),
                shown_edition,
                tabs,
                fallback,
                cache.manifest(config.build_dir / "cells" / shown_edition / f"{own_path}.json"),
                "" if own_path == chapter else own_path,
            )
        )
    return english, entries


def _language_labels(
    cache: BookCache,
    language: str,
    entries: list[_Entry],
    structure: _Structure,
    english_labels: Mapping[str, Target],
) -> dict[str, Target]:
    """Every label of the language's book with its page and number; a label the edition's
    chapter lacks still leads somewhere: to the English page."""
    labels: dict[str, Target] = dict(english_labels)
    for entry in entries:
        path, number = f"{language}/{entry.chapter}", structure.numbers[entry.chapter]
        labels.update(
            cache.remember(
                "numbers", path, (entry.parsed, number), partial(number_chapter, entry.parsed, path, number)
            )
        )
    return labels


def _language_context(
    cache: BookCache,
    language: str,
    edition: Edition | None,
    english_root: Path,
    structure: _Structure,
    labels: Mapping[str, Target],
    references: Mapping[str, Reference],
    english_labels: Mapping[str, Target],
    english: _Structure,
    options: SiteOptions,
) -> _Language:
    citations = {key: reference.short for key, reference in references.items()}
    return _Language(
        language,
        words_for(language),
        edition,
        english_root,
        structure,
        labels,
        citations,
        english_labels,
        english.chapter_set if "en" in options.languages else frozenset(),
        {
            "labels": cache.token("labels", language, frozenset(labels.items())),
            "citations": cache.token("citations", language, tuple(sorted(citations.items()))),
            "chapters": cache.token("chapters", language, structure.chapter_set),
            "english": cache.token("english-labels", language, frozenset(english_labels.items())),
            "references": cache.token("references", language, tuple(sorted(references.items()))),
        },
    )


def _chapter_page(
    cache: BookCache,
    site: _Language,
    entry: _Entry,
    findings: Mapping[tuple[str, str], list[Finding]],
    log: _BuildLog,
) -> SitePage:
    """One chapter's page: lowered (or remembered) with its figures, notebooks, banner and credit."""
    language, words, edition = site.language, site.words, site.edition
    path = f"{language}/{entry.chapter}"
    number = site.structure.numbers[entry.chapter]
    fuzzy = _fuzzy_lines(entry, language, findings)
    today_chapter = entry.same_as or entry.chapter
    english_page = f"en/{today_chapter}" if today_chapter in site.published_english else ""
    roots = (
        (edition.directory, site.english_root)
        if edition is not None and not entry.fallback
        else (site.english_root,)
    )
    # a figure added to or removed from an img/ folder changes that folder's mtime
    folders = tuple(_version(root / "img") for root in roots)
    present, copies = cache.remember(
        "images", path, (entry.parsed, roots, folders), partial(_images, entry, path, roots)
    )
    dead = cache.remember(
        "dead-links",
        path,
        (entry.parsed, present, site.tokens["chapters"]),
        partial(_dead_links, entry, present, site.structure.chapter_set),
    )
    context = PageContext(
        path,
        number,
        entry.tabs,
        words,
        site.labels,
        {},  # from the manifest, in _lower_entry: only when the page is lowered
        f"{language}/bibliography.md",
        present,
        dead,
        site.citations,
        fuzzy,
        site.english_labels,
        english_page,
    )
    inputs = (
        entry.parsed,
        entry.manifest,
        number,
        entry.tabs,
        site.tokens["labels"],
        site.tokens["citations"],
        present,
        dead,
        fuzzy,
        site.tokens["english"] if fuzzy else None,
        english_page,
        folders,  # a figure added or removed
    )
    lowered, notebooks = cache.remember("page", path, inputs, partial(_lower_entry, entry, context))
    for image in lowered.missing_images:
        log.missing.setdefault(image, []).append(path)
    for label in lowered.unresolved:
        log.unresolved.setdefault(label, []).append(path)
    for url in lowered.dead_links:
        log.dead_links.setdefault(url, []).append(path)
    banner = _banner(entry, language, words, findings)
    credit = _credit(entry, edition if not entry.fallback else None, words)
    if notebooks:
        links = " · ".join(
            f"[{TAB_TITLES.get(fw, fw)}]({posixpath.basename(target)}){{.d2l-notebook download='{posixpath.basename(target)}'}}"
            for fw, (target, _) in notebooks.items()
        )
        credit = f"\n\n{words.notebooks}: {links}\n" + credit
    parent = site.structure.parents.get(entry.chapter)
    return SitePage(
        path,
        language,
        "chapter",
        lowered.title,
        banner + lowered.markdown + credit,
        entry.chapter,
        entry.fallback,
        copies,
        lowered.citations,
        f"{language}/{parent}" if parent else "",
        tuple(notebooks.values()),
        entry.same_as,
    )


def _status_pages(
    cache: BookCache,
    site: _Language,
    entries: list[_Entry],
    chapter_pages: list[SitePage],
    findings: Mapping[tuple[str, str], list[Finding]],
) -> list[SitePage]:
    """The status overview and its parts: made again only when a chapter's findings,
    manifest or title changed."""
    status_inputs = tuple(
        (
            entry.chapter,
            entry.fallback,
            entry.edition,
            entry.manifest,
            page.title,
            tuple(findings.get((entry.edition, entry.own_chapter), ())),
        )
        for entry, page in zip(entries, chapter_pages, strict=True)
    )
    return cache.remember(
        "status",
        site.language,
        (site.edition, status_inputs),
        partial(_status, site.language, site.words, site.edition, entries, chapter_pages, findings),
    )


def _bibliography_page(
    cache: BookCache, site: _Language, chapter_pages: list[SitePage], references: Mapping[str, Reference]
) -> SitePage:
    return cache.remember(
        "bibliography",
        site.language,
        (
            site.tokens["references"],
            tuple((page.path, page.title, page.citations) for page in chapter_pages),
        ),
        partial(_bibliography, site.language, site.words, chapter_pages, references),
    )


ENGLISH_REPOSITORY = ("d2l-ai/d2l-en", "master")


def _with_basis_equations(
    cache: BookCache, shown: Path, basis: tuple[Path, tuple[str, ...]] | None, tabs: tuple[str, ...]
) -> Chapter:
    """The shown file parsed, its display equations that lost something replaced by its
    English basis's (``with_english_equations``)."""
    parsed = cache.store.get(shown)
    if basis is None:
        return parsed
    english, english_tabs = cache.store.get(basis[0]), basis[1]
    return cache.remember(
        "equations",
        str(shown),
        (parsed, english, english_tabs, tabs),
        partial(_english_equations, parsed, english, english_tabs, tabs),
    )


def _own_entry(
    config: ProjectConfig,
    cache: BookCache,
    edition: Edition,
    chapter: str,
    same_as: str,
    bases: Mapping[tuple[str, str], tuple[Path, tuple[str, ...]]],
) -> _Entry:
    """A chapter of an edition published in its own structure (a v0.17 edition)."""
    shown = edition.directory / chapter
    return _Entry(
        chapter,
        shown,
        _with_basis_equations(cache, shown, bases.get((edition.id, chapter)), edition.tabs),
        edition.id,
        edition.tabs,
        False,
        cache.manifest(config.build_dir / "cells" / edition.id / f"{chapter}.json"),
        "",
        same_as if same_as != chapter else "",
    )


def _english_equations(
    parsed: Chapter, english: Chapter, english_tabs: tuple[str, ...], tabs: tuple[str, ...]
) -> Chapter:
    return with_english_equations(parsed, english, english_tabs, tabs)[0]


def _lower_entry(entry: _Entry, context: PageContext) -> tuple[LoweredPage, dict[str, tuple[str, str]]]:
    """The page's Markdown and its notebooks, with the outputs of its run-cells manifest."""
    context = replace(context, outputs=outputs_from_manifest(entry.manifest))
    language = context.page.split("/", 1)[0]
    return lower_chapter(entry.parsed, context), _notebooks(entry, context, language)


def _notebooks(entry: _Entry, context: PageContext, language: str) -> dict[str, tuple[str, str]]:
    """framework -> (path in the site, notebook) for every framework the chapter has code for."""
    stem = context.page[: -len(".md")]
    return {
        framework: (
            f"{stem}.{framework}.ipynb",
            chapter_notebook(entry.parsed, framework, entry.tabs, context.outputs, language, context),
        )
        for framework in notebook_frameworks(entry.parsed, entry.tabs)
    }


def _credit(entry: _Entry, edition: Edition | None, words: Words) -> str:
    """Who wrote the page and under which licence, and where to edit it: every chapter page
    credits its edition's translators (or the English authors) and links to its file."""
    repository, branch = (edition.repository, edition.branch) if edition is not None else ENGLISH_REPOSITORY
    edit = f"https://github.com/{repository}/edit/{branch}/{entry.own_chapter}"
    text = words.credit.format(repository=f'<a href="https://github.com/{repository}">{repository}</a>')
    return f'\n\n<p class="d2l-credit">{text} <a href="{edit}">{words.edit}</a></p>\n'


def status_part_path(chapter: str) -> str:
    """The status page listing a chapter's findings, relative to the language root: one page
    per part of the book (``status/chapter_preliminaries.md``), so no page carries every
    finding of an edition."""
    # a file outside the parts (the book's index.md) is the book's own: never status/index.md,
    # which would be the overview's URL
    part = chapter.split("/", 1)[0] if "/" in chapter else "book"
    return f"status/{part}.md"


def _status_anchor(chapter: str) -> str:
    return "status-" + chapter.replace("/", "-").replace(".md", "").replace("_", "-").lower()


def _fuzzy_lines(
    entry: _Entry, language: str, findings: Mapping[tuple[str, str], list[Finding]]
) -> frozenset[int]:
    """The first lines of the page's blocks that follow an older English text (S001's marks)."""
    if entry.fallback or language == "en":
        return frozenset()
    found = findings.get((entry.edition, entry.own_chapter), [])
    return frozenset(line for f in found if f.code in STALE_CODES for line in f.marks)


def _banner(
    entry: _Entry, language: str, words: Words, findings: Mapping[tuple[str, str], list[Finding]]
) -> str:
    if entry.fallback:
        return f'!!! info "{words.name}"\n\n    {words.fallback}\n\n'
    if language == "en":
        return ""
    found = findings.get((entry.edition, entry.own_chapter), [])
    if not any(f.code in STALE_CODES or f.code in UNTRANSLATED_CODES or f.severity == "error" for f in found):
        return ""
    # one quiet, true sentence for the reader; the counts and every finding are the status
    # page's (the site repairs what it can: a page with findings rarely looks broken)
    depth = entry.chapter.count("/") + 1
    link = "../" * (depth - 1) + f"{status_part_path(entry.chapter)}#{_status_anchor(entry.chapter)}"
    return f'!!! note "{words.status_title}"\n\n    {words.status_note} [{words.stale_link}]({link})\n\n'


def _relative(from_page: str, to_page: str) -> str:
    return posixpath.relpath(to_page, posixpath.dirname(from_page))


def _landing(
    language: str,
    words: Words,
    edition: Edition | None,
    editions: tuple[Edition, ...],
    chapters: list[SitePage],
    lock: Lock,
) -> SitePage:
    path = f"{language}/index.md"
    markdown = TEMPLATES.get_template("landing.md.j2").render(
        words=words,
        language=language,
        edition=edition,
        editions=editions,
        revisions={r.id: r for r in lock.revisions},
        chapters=[(page.title, _relative(path, page.path), page.fallback) for page in chapters],
        status=_relative(path, f"{language}/status.md"),
        # the frameworks the language's book has code in, in its tab order (v0.17: no JAX)
        frameworks=", ".join(
            TAB_TITLES.get(t, t) for t in (edition.tabs if edition is not None else lock.today.tabs)
        ),
    )
    return SitePage(path, language, "landing", words.landing_title, markdown)


# the status table fits 1280 px with four frameworks: one column, a short name and a symbol each
STATUS_SHORT = {"mxnet": "MX", "pytorch": "PT", "tensorflow": "TF", "jax": "JAX"}
STATUS_SYMBOLS = {
    "ok": "✓",
    "failed": "✗",
    "timed-out": "◷",  # in the system fonts (⏱ is an emoji most lack: a box)
    "needs-data": "⬇",
    "skipped": "–",
    "not-run": "–",
}


def _status(
    language: str,
    words: Words,
    edition: Edition | None,
    entries: list[_Entry],
    chapters: list[SitePage],
    findings: Mapping[tuple[str, str], list[Finding]],
) -> list[SitePage]:
    """The edition's status overview (a row per chapter) and a page per part of the book with
    each chapter's findings."""
    path = f"{language}/status.md"
    rows = []
    for entry, page in zip(entries, chapters, strict=True):
        found = [] if entry.fallback else findings.get((entry.edition, entry.own_chapter), [])
        severities = Counter(f.severity for f in found)
        manifest = entry.manifest
        outputs = manifest.frameworks if manifest is not None else {}
        executed = {fw: outputs[fw].status if fw in outputs else "not-run" for fw in EXECUTED_FRAMEWORKS}
        devices = {fw: outputs[fw].device if fw in outputs else "" for fw in EXECUTED_FRAMEWORKS}
        rows.append(
            {
                "title": page.title,
                "link": _relative(path, page.path),
                "anchor": _status_anchor(entry.chapter),
                "part": status_part_path(entry.chapter),
                "fallback": entry.fallback,
                "edition": entry.edition,
                "errors": severities["error"],
                "warnings": severities["warning"],
                "stale": _places(found, STALE_CODES),
                "untranslated": _places(found, UNTRANSLATED_CODES),
                "executed": executed,
                # a chapter with code shows a symbol per framework, "–" until run-cells ran it:
                # the reader's page shows the code alone, this column says it is not run yet
                "has_code": any(status != "not-run" for status in executed.values())
                or any(
                    isinstance(block, CodeCell) and block.executable and not is_tooling_cell(block.code)
                    for block, _ in iter_blocks(entry.parsed.blocks)
                ),
                "devices": devices,
                "findings": sorted(found, key=lambda f: (f.line, f.code)),
            }
        )
    common: dict[str, object] = {
        "words": words,
        "edition": edition,
        # the frameworks the edition has tabs for (v0.17 editions: no JAX)
        "frameworks": [fw for fw in EXECUTED_FRAMEWORKS if edition is None or fw in edition.tabs],
        "titles": TAB_TITLES,
        "short": STATUS_SHORT,
        "symbols": STATUS_SYMBOLS,
        "severity": dict(zip(("error", "warning", "info"), words.severities, strict=True)),
    }
    pages = [
        SitePage(
            path,
            language,
            "status",
            words.status_title,
            TEMPLATES.get_template("status.md.j2").render(rows=rows, **common),
        )
    ]
    parts: dict[str, list[dict[str, object]]] = {}
    for row in rows:
        parts.setdefault(str(row["part"]), []).append(row)
    for part, part_rows in parts.items():
        title = f"{words.status_title}: {part_rows[0]['title']}"
        markdown = TEMPLATES.get_template("status-part.md.j2").render(
            rows=part_rows, title=title, overview="../status.md", **common
        )
        pages.append(SitePage(f"{language}/{part}", language, "status-part", title, markdown))
    return pages


def _bibliography(
    language: str, words: Words, chapters: list[SitePage], references: Mapping[str, Reference]
) -> SitePage:
    """Every key cited in the language's chapters: its full reference and the pages citing it."""
    path = f"{language}/bibliography.md"
    cited: dict[str, list[SitePage]] = {}
    for page in chapters:
        for key in page.citations:
            cited.setdefault(key, []).append(page)
    entries = [
        (
            bib_anchor(key),
            references[key].short if key in references else key,
            references[key].full if key in references else "",
            [(p.title, _relative(path, p.path)) for p in dict.fromkeys(pages)],
        )
        for key, pages in sorted(
            cited.items(),
            key=lambda item: (references[item[0]].short if item[0] in references else item[0]).lower(),
        )
    ]
    markdown = TEMPLATES.get_template("bibliography.md.j2").render(words=words, entries=entries)
    return SitePage(path, language, "bibliography", words.bibliography_title, markdown)
