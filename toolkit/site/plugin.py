"""The MkDocs plugin ``d2l-i18n``: the only module that touches MkDocs.

One MkDocs build publishes every language (unlike mkdocs-static-i18n, which builds the site
once per language): pages are generated from ``toolkit.site.book`` under ``<lang>/`` and
this plugin only wires them in.

Invariants:
- ``on_config`` reads the project and lowers every page once; the navigation is the book's,
  one section per language, and every page sees only its own language's section.
- The search index Material writes for the whole site is split into one index per language
  (``<lang>/search/search_index.json``) and each page's search looks only at its own (what
  makes Korean and Indonesian searchable is said in ``toolkit.site.search``).
- Every page's HTML goes through the allow-list sanitiser (``toolkit.site.sanitise``) after
  Markdown and before the theme: no script, event handler or ``javascript:`` URL a translation
  carries reaches a reader. The one exception is the root redirect page, which is ours alone
  (its script holds nothing but the language codes).
- The build never executes code: outputs come from ``build/cells`` (``toolkit run-cells``).
- Images the repository lacks are named once at the end of the build (INFO), not once per
  page and language.
"""

from __future__ import annotations

import contextlib
import inspect
import itertools
import json
import logging
import os
import re
from pathlib import Path
from typing import Any

import jinja2
from mkdocs.config import base
from mkdocs.config import config_options as c
from mkdocs.config.defaults import MkDocsConfig
from mkdocs.exceptions import PluginError
from mkdocs.livereload import LiveReloadServer
from mkdocs.plugins import BasePlugin, CombinedEvent, event_priority
from mkdocs.structure.files import File, Files
from mkdocs.structure.nav import Navigation, Section
from mkdocs.structure.pages import Page
from mkdocs.utils.templates import TemplateContext

from toolkit.config import ConfigError, ProjectConfig, find_project_root, load_editions, load_project
from toolkit.languages import LANGUAGES_FILE
from toolkit.site.book import LANGUAGES, Book, BookCache, SiteOptions, build_book, page_url
from toolkit.site.sanitise import safe_id, sanitise_html, sanitise_text
from toolkit.site.search import split_search_index

log = logging.getLogger("mkdocs.plugins.d2l-i18n")
THEME_DIR = Path(__file__).with_name("theme")
#: MathJax as components (0.65 MB where the combined tex-chtml.js is 1.16 MB: no context menu):
#: its loader, TeX input, CommonHTML output with the TeX fonts, MathML for screen readers, and
#: safe mode (see assets/mathjax-config.js)
MATHJAX_FILES = (
    "startup.js",
    "core.js",
    "input/tex.js",
    "output/chtml.js",
    "output/chtml/fonts/tex.js",
    "a11y/assistive-mml.js",
    "ui/safe.js",
)
ROOT_PAGE = "index.md"
# lunr-languages' Vietnamese support adds a stop-word filter it never registers, so every
# Vietnamese search logs "Function is not registered with pipeline": registered here, as its
# trimmer is, when the search worker loads the file (self.lunr is the worker's lunr)
LUNR_PATCHES = {
    "assets/javascripts/lunr/min/lunr.vi.min.js": (
        ";(function (lunr) { if (lunr && lunr.vi && lunr.vi.stopWordFilter) "
        'lunr.Pipeline.registerFunction(lunr.vi.stopWordFilter, "stopWordFilter-vi"); })(self.lunr);'
    ),
}
# Pygments' token spans (<span class="n">x</span>): what the search reads without (_content_for_search)
SPANS = re.compile(r"</?span\b[^>]*>")
OWN_META = "---\nd2l_generated: true\n"  # how every page the plugin generates begins
OWN_FRONT_MATTER = OWN_META + "---\n\n"


def memoise_highlighting() -> None:
    """Highlight each distinct code block once per process. Every language shows the same
    cells, and Pygments was a sixth of a whole-book build. A block's HTML depends only on its
    arguments and the extension's settings, except a title (stashed in its page's Markdown
    instance) and line anchors (numbered per page): those are highlighted every time."""
    from pymdownx.highlight import Highlight

    original = Highlight.highlight
    if getattr(original, "d2l_memoised", False):
        return
    parameters = inspect.signature(original)
    known: dict[str, Any] = {}

    def highlight(self: Highlight, *args: Any, **kwargs: Any) -> Any:
        bound = parameters.bind(self, *args, **kwargs)
        bound.apply_defaults()
        arguments = {k: v for k, v in bound.arguments.items() if k != "self"}
        settings = {k: v for k, v in vars(self).items() if k != "md"}
        if (
            arguments["title"] is not None
            or settings.get("auto_title")
            or settings.get("line_spans")
            or settings.get("line_anchors")
        ):
            return original(self, *args, **kwargs)
        arguments.pop("code_block_count")  # only names line anchors, which are off here
        key = repr((sorted(settings.items()), sorted(arguments.items())))
        if key not in known:
            known[key] = original(self, *args, **kwargs)
        return known[key]

    highlight.d2l_memoised = True  # type: ignore[attr-defined]
    Highlight.highlight = highlight


class ShowSwitcher(list[dict[str, str]]):
    """An empty list that is true: Material's header shows the language switcher for it."""

    def __bool__(self) -> bool:
        return True


class BookFile(File):
    """A generated file that knows whether it changed since this process's previous build.

    MkDocs counts every in-memory file as modified, so ``mkdocs serve --dirty`` would render
    the whole book again after each save; this file says "modified" only when its text did."""

    changed: bool = True

    def is_modified(self) -> bool:
        return self.changed


class D2lI18nConfig(base.Config):
    # default: English and every language of toolkit/languages.toml the project has an edition of
    languages = c.ListOfItems(c.Choice(LANGUAGES), default=[])
    editions = c.Type(dict, default={})  # language -> edition id (default: newest basis)
    chapter_numbers = c.Type(dict, default={})  # chapter directory -> its number in the book


def _mathjax_root() -> Path | None:
    """MathJax 3 as packaged on PyPI (django-static-mathjax: plain static files, no Django)."""
    import importlib.util

    spec = importlib.util.find_spec("mathjax")
    if spec is None or not spec.submodule_search_locations:
        return None
    root = Path(next(iter(spec.submodule_search_locations))) / "static" / "mathjax" / "es5"
    return root if (root / "startup.js").is_file() else None


def _pages_of(section: Section) -> list[Page]:
    """The pages of a navigation section, chapters' sections included, in reading order."""
    found: list[Page] = []
    for child in section.children:
        if isinstance(child, Page):
            found.append(child)
        elif isinstance(child, Section):
            found.extend(_pages_of(child))
    return found


class MemoryBytecodeCache(jinja2.BytecodeCache):
    """Jinja's compiled templates in memory. Jinja checks each entry against its template
    source's checksum, so an edited template is compiled again."""

    def __init__(self) -> None:
        self._code: dict[str, bytes] = {}

    def load_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        code = self._code.get(bucket.key)
        if code is not None:
            bucket.bytecode_from_string(code)

    def dump_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        self._code[bucket.key] = bucket.bytecode_to_string()


class D2lI18nPlugin(BasePlugin[D2lI18nConfig]):
    def __init__(self) -> None:
        self.book: Book | None = None
        self.cache: BookCache | None = None  # kept between the builds of `mkdocs serve`
        self.published: dict[str, int] = {}  # generated file -> hash of its text, last build
        self.published_nav: object = None
        self.project: ProjectConfig | None = None
        self.language_of: dict[str, str] = {}  # page src_uri -> language
        self.chapter_of: dict[str, str] = {}
        self.navs: dict[str, Navigation] = {}
        self.site_name = ""  # the configured site_name, while a page shows its language's
        self.templates = MemoryBytecodeCache()  # compiled theme templates, kept between builds
        self.search_indexes: dict[str, dict[str, Any]] = {}  # language -> its index, last written
        self.rendered_content: str | None = None  # a page's HTML while the search reads it without spans

    def on_startup(self, *, command: str, dirty: bool) -> None:
        """Having this hook keeps one plugin object for all builds of `mkdocs serve`, and with
        it the book cache: a rebuild lowers only the chapters that changed (and with
        ``--dirty`` MkDocs renders only their pages)."""
        self.cache = None

    def on_config(self, config: MkDocsConfig) -> MkDocsConfig:
        memoise_highlighting()
        languages = tuple(self.config.languages)
        only = os.environ.get("TOOLKIT_SITE_LANGUAGES")  # the benchmark's English-only build
        if only:
            languages = tuple(x for x in only.split(",") if x)
        try:
            project = load_project(find_project_root(Path(config.config_file_path or ".").parent))
            self.project = project
            if self.cache is None or self.cache.store.root != project.root:
                self.cache = BookCache(project.root)
            self.book = build_book(
                project,
                SiteOptions(languages, dict(self.config.editions), dict(self.config.chapter_numbers)),
                self.cache,
            )
            unpublished = sorted({e.language for e in load_editions(project)} - set(LANGUAGES))
        except ConfigError as error:
            raise PluginError(f"d2l-i18n: {error}") from error
        if unpublished:  # a language is data: its table says what its pages and search need
            log.warning(
                f"d2l-i18n: no table for {', '.join(unpublished)} in {LANGUAGES_FILE}: editions in "
                "that language are not published (add its plural forms, search language and words)"
            )
        nav: list[Any] = []
        for site in self.book.languages:
            entries: list[Any] = []
            sections: dict[str, list[Any]] = {}  # a chapter page -> its sections, in the book's order
            for page in site.pages:
                self.language_of[page.path] = site.language
                self.chapter_of[page.path] = page.today_chapter
                if page.kind == "status-part":
                    continue  # reached from the status overview, not the navigation
                if page.parent and page.parent in sections:
                    sections[page.parent].append({page.title: page.path})
                elif page.chapter.endswith("index.md") and page.kind == "chapter":
                    sections[page.path] = [{page.title: page.path}]
                    entries.append({page.title: sections[page.path]})
                else:
                    entries.append({page.title: page.path})
            nav.append({site.words.name: entries})
        config.nav = nav
        config.theme.dirs.insert(0, str(THEME_DIR))
        # The switcher (theme/partials/alternate.html) lists each page's own alternates.
        # Material shows it when extra.alternate is truthy, and turns every entry into a
        # <link rel=alternate> whose clicks it redirects by sitemap to the language root;
        # a truthy empty list shows the switcher and leaves our links alone.
        config.extra["alternate"] = ShowSwitcher()
        # the configuration loads MathJax (assets/mathjax/startup.js) on pages with math only
        config.extra_javascript.append("assets/mathjax-config.js")
        config.extra_javascript.append("assets/notebooks.js")
        config.extra_css.append("assets/d2l.css")
        return config

    def on_env(self, env: jinja2.Environment, *, config: MkDocsConfig, files: Files) -> jinja2.Environment:
        """MkDocs makes a new template environment for every build; the compiled templates are
        kept, so a rebuild under `mkdocs serve` does not compile Material's templates again."""
        env.bytecode_cache = self.templates
        return env

    def on_serve(self, server: LiveReloadServer, *, config: MkDocsConfig, builder: Any) -> LiveReloadServer:
        """`mkdocs serve` rebuilds when a chapter, its English or its stored outputs change."""
        assert self.project is not None
        for path in (
            self.project.translations_dir,
            self.project.source_dir,
            self.project.build_dir / "cells",
        ):
            if path.exists():
                server.watch(str(path))
        return server

    def _generated(self, config: MkDocsConfig, path: str, text: str, nav_changed: bool) -> File:
        """A generated file, "modified" when its text (or the navigation every page shows) changed.

        A page starts with front matter of its own, so MkDocs never reads a translation's
        first lines as the page's meta (YAML ``---`` blocks and MultiMarkdown ``title:``
        lines alike, whose values the theme prints unescaped): they are the page's text."""
        if path.endswith(".md") and not text.startswith(OWN_META):
            text = OWN_FRONT_MATTER + text
        file = BookFile.generated(config, path, content=text)
        assert isinstance(file, BookFile)  # File.generated builds an instance of its class
        digest = hash(text)  # not the text: the whole book's pages and notebooks are ~300 MB
        file.changed = nav_changed or self.published.get(path) != digest
        self.published[path] = digest
        return file

    def on_files(self, files: Files, config: MkDocsConfig) -> Files:
        assert self.book is not None
        # every page shows the navigation and its neighbours' titles: when they change, all change
        nav = [(page.path, page.title) for site in self.book.languages for page in site.pages]
        nav_changed = nav != self.published_nav
        self.published_nav = nav
        for site in self.book.languages:
            for page in site.pages:
                files.append(self._generated(config, page.path, page.markdown, nav_changed))
                for target, source in page.images:
                    if files.get_file_from_path(target) is None:
                        files.append(File.generated(config, target, abs_src_path=str(source)))
                for target, text in page.files:
                    files.append(self._generated(config, target, text, nav_changed))
        files.append(self._generated(config, ROOT_PAGE, self._root_page(), nav_changed))
        for path, patch in LUNR_PATCHES.items():
            shipped = files.get_file_from_path(path)
            if shipped is not None and shipped.abs_src_path is not None:
                text = Path(shipped.abs_src_path).read_text("utf-8")
                files.remove(shipped)
                files.append(File.generated(config, path, content=f"{text}\n{patch}\n"))
        mathjax = _mathjax_root()
        if mathjax is None:
            raise PluginError("d2l-i18n: MathJax is not installed (pip install django-static-mathjax)")
        for name in MATHJAX_FILES:
            files.append(File.generated(config, f"assets/mathjax/{name}", abs_src_path=str(mathjax / name)))
        # TeX extensions MathJax loads on demand (\boldsymbol, \cancel, …): served too, or a
        # formula that needs one stays raw TeX (a 404 for input/tex/extensions/boldsymbol.js)
        for extension in sorted((mathjax / "input" / "tex" / "extensions").glob("*.js")):
            files.append(
                File.generated(
                    config,
                    f"assets/mathjax/input/tex/extensions/{extension.name}",
                    abs_src_path=str(extension),
                )
            )
        for font in sorted((mathjax / "output" / "chtml" / "fonts" / "woff-v2").glob("*.woff")):
            files.append(
                File.generated(
                    config, f"assets/mathjax/output/chtml/fonts/woff-v2/{font.name}", abs_src_path=str(font)
                )
            )
        return files

    def _root_page(self) -> str:
        """The site root: sends the reader to their browser's language, else English."""
        assert self.book is not None
        languages = [s.language for s in self.book.languages]
        links = "\n".join(f"- [{s.words.name}]({s.language}/index.md)" for s in self.book.languages)
        script = (
            "<script>(function(){var have=" + json.dumps(languages) + ";"
            "var want=(navigator.languages||[navigator.language||'en']).map(function(l){return l.slice(0,2)});"
            "var pick=want.filter(function(l){return have.indexOf(l)>=0})[0]||have[0];"
            "location.replace(pick+'/');})();</script>"
        )
        # its own small template: a redirect needs no navigation, no theme, no scripts
        return (
            f"{OWN_META}template: redirect.html\nsearch:\n  exclude: true\n---\n\n"
            f"# Dive into Deep Learning\n\n{links}\n\n{script}\n"
        )

    def on_nav(self, nav: Navigation, config: MkDocsConfig, files: Files) -> Navigation:
        assert self.book is not None
        for item, site in zip(nav.items, self.book.languages, strict=False):
            if not isinstance(item, Section):
                continue
            pages = _pages_of(item)
            # previous/next stay within the language
            for before, after in itertools.pairwise(pages):
                before.next_page, after.previous_page = after, before
            if pages:
                pages[0].previous_page = None
                pages[-1].next_page = None
            self.navs[site.language] = Navigation(list(item.children), pages)
        return nav

    def on_page_content(self, html: str, *, page: Page, config: MkDocsConfig, files: Files) -> str:
        if page.file.src_uri == ROOT_PAGE:
            return html  # the redirect script is generated here from language codes only
        # the table of contents is printed by the theme outside the page body, unescaped
        pending = list(page.toc.items)
        while pending:
            item = pending.pop()
            item.title = sanitise_text(item.title)
            item.id = safe_id(item.id)
            pending.extend(item.children)
        return sanitise_html(html)

    @event_priority(100)  # before Material's search reads the page
    def _content_for_search(
        self, context: TemplateContext, *, page: Page, config: MkDocsConfig, nav: Navigation
    ) -> TemplateContext:
        """Material's search indexes the page's text through Python's HTML parser, tag by tag:
        Pygments' token spans (most of a page's tags: every language shows every framework's
        code) carry no text of their own and no structure the index keeps. The search reads
        the page without spans (the same text, but for a space where a line break met a
        span); the page itself is restored before it is rendered."""
        if page.content is not None:
            self.rendered_content = page.content
            page.content = SPANS.sub("", page.content)
        return context

    @event_priority(-100)  # after the search read it: the page is rendered as it was
    def _content_restored(
        self, context: TemplateContext, *, page: Page, config: MkDocsConfig, nav: Navigation
    ) -> TemplateContext:
        if self.rendered_content is not None:
            page.content, self.rendered_content = self.rendered_content, None
        return context

    def _page_context(
        self, context: TemplateContext, *, page: Page, config: MkDocsConfig, nav: Navigation
    ) -> TemplateContext:
        assert self.book is not None
        language = self.language_of.get(page.file.src_uri)
        if language is None:
            return context
        context["nav"] = self.navs.get(language, nav)
        page.meta["d2l_language"] = language
        # Material's header and <title> print config.site_name: the book's name in the page's
        # language (languages.toml's landing_title, the toolkit's words), restored after the page
        self.site_name = self.site_name or config.site_name
        config.site_name = next(s.words.landing_title for s in self.book.languages if s.language == language)
        chapter = self.chapter_of.get(page.file.src_uri, "")
        kind = page.file.src_uri[len(language) + 1 :]
        if chapter:
            page.meta["d2l_alternates"] = self.book.alternates(chapter)
        else:  # landing, status and bibliography pages exist in every language
            if kind.startswith("status/"):
                kind = "status.md"  # a part of one edition's book: the other's overview
            page.meta["d2l_alternates"] = [
                {"name": s.words.name, "lang": s.language, "link": page_url(f"{s.language}/{kind}")}
                for s in self.book.languages
            ]
        return context

    on_page_context = CombinedEvent(_content_for_search, _page_context, _content_restored)

    def on_post_page(self, output: str, *, page: Page, config: MkDocsConfig) -> str:
        if self.site_name:
            config.site_name = self.site_name
        return output

    @event_priority(-100)  # after Material's search plugin wrote the whole-site index
    def on_post_build(self, config: MkDocsConfig) -> None:
        assert self.book is not None
        index = Path(config.site_dir) / "search" / "search_index.json"
        if index.is_file():
            split_search_index(index, [s.language for s in self.book.languages], self.search_indexes)
            # every page searches its own language's index: the whole site's (tens of MB) would
            # only be downloaded by mistake
            index.unlink()
            with contextlib.suppress(OSError):
                index.parent.rmdir()  # empty unless something else put files there
        if self.book.missing_images:
            names = ", ".join(sorted(self.book.missing_images))
            log.info(
                f"d2l-i18n: {len(self.book.missing_images)} image(s) are in no repository of the book; their figures show "
                f"the caption only: {names}"
            )
        if self.book.dead_links:
            shown = ", ".join(f"{url} ({pages[0]})" for url, pages in sorted(self.book.dead_links.items()))
            log.info(f"d2l-i18n: links to nothing on the site, shown as text: {shown}")
        if self.book.unresolved:
            log.info(f"d2l-i18n: unresolved references: {', '.join(sorted(self.book.unresolved))}")
