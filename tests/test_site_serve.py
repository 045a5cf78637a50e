"""`mkdocs serve --dirty`, the translators' edit loop: a saved chapter is on its page, the
others stay as they were (the plugin keeps its book cache between builds and tells MkDocs
which generated pages changed). The server runs on a free loopback port and is stopped by the
test. How fast the whole book rebuilds is measured by bench/serve_rebuild.py, not here.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path

from conftest import SEED_CHAPTER

BIN = Path(sys.executable).parent
PAGE = SEED_CHAPTER[: -len(".md")]


def _fetch(url: str) -> str:
    """The page as built: without the epochs of the live-reload script MkDocs injects."""
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            page = str(response.read().decode("utf-8"))
    except (urllib.error.URLError, OSError):
        return ""
    return re.sub(r"reload\(\d+, \d+\)", "reload()", page)


def _wait_for(url: str, marker: str, server: subprocess.Popen[str], seconds: float = 300) -> str:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        assert server.poll() is None, "mkdocs serve exited"
        page = _fetch(url)
        if marker in page:
            return page
        time.sleep(0.1)
    raise AssertionError(f"{url} never showed {marker!r}")


def _wait_until(condition: Callable[[], bool], seconds: float = 30) -> None:
    """The page is served before MkDocs' post-build step (the search indexes) has finished."""
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "condition never held"
        time.sleep(0.1)


def test_serve_dirty_shows_a_saved_chapter_and_keeps_the_other_pages(project: Path, tmp_path: Path) -> None:
    scratch = tmp_path / "tmp"  # where mkdocs serve makes its site directory (mkdtemp)
    scratch.mkdir()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen(
        [str(BIN / "mkdocs"), "serve", "--dirty", "-a", f"127.0.0.1:{port}"],
        cwd=project,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1", "TMPDIR": str(scratch)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    korean = f"http://127.0.0.1:{port}/ko/{PAGE}/"
    english = f"http://127.0.0.1:{port}/en/{PAGE}/"
    try:
        _wait_for(korean, "</html>", server)
        english_before = _fetch(english)
        assert "Compilers and Interpreters" in english_before
        (site,) = scratch.glob("mkdocs_*")
        pages = {lang: site / lang / PAGE / "index.html" for lang in ("en", "ko", "id", "tr", "vi")}
        written = {lang: page.stat().st_mtime_ns for lang, page in pages.items()}
        indexes = {lang: site / lang / "search" / "search_index.json" for lang in pages}
        indexed = {lang: index.stat().st_mtime_ns for lang, index in indexes.items()}
        chapter = project / "translations" / "ko-partrita" / SEED_CHAPTER
        chapter.write_text(chapter.read_text("utf-8") + "\n\n저장한 뒤 바로 보이는 문단.\n", "utf-8")
        page = _wait_for(korean, "저장한 뒤 바로 보이는 문단.", server)
        assert "컴파일러와 인터프리터" in page  # the rest of the chapter is still there
        assert _fetch(english) == english_before
        # MkDocs wrote the Korean page again, and no other language's
        rewritten = {lang for lang, page in pages.items() if page.stat().st_mtime_ns != written[lang]}
        assert rewritten == {"ko"}
        # the saved paragraph is searchable in Korean; no other language's index was rewritten
        _wait_until(lambda: "저장한 뒤 바로 보이는 문단" in indexes["ko"].read_text("utf-8"))
        reindexed = {lang for lang, index in indexes.items() if index.stat().st_mtime_ns != indexed[lang]}
        assert reindexed == {"ko"}
    finally:
        os.killpg(server.pid, signal.SIGINT)
        try:
            _, errors = server.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            _, errors = server.communicate()
    assert "Traceback" not in errors, errors[-3000:]
    assert "Detected file changes" in errors


def test_theme_templates_compiled_once_are_reused_by_the_next_builds_environment() -> None:
    import jinja2

    from toolkit.site.plugin import MemoryBytecodeCache

    kept = MemoryBytecodeCache()
    sources = {"page.html": "<p>{{ title }}</p>"}

    def environment() -> tuple[jinja2.Environment, list[str]]:
        """A fresh environment, as MkDocs makes one per build, counting what it compiles."""
        compiled: list[str] = []
        env = jinja2.Environment(loader=jinja2.FunctionLoader(lambda name: sources[name]))
        env.bytecode_cache = kept
        compile_source = env.compile

        def counting(
            source: str, name: str | None = None, filename: str | None = None, **kw: object
        ) -> object:
            compiled.append(str(name))
            return compile_source(source, name, filename, **kw)  # type: ignore[call-overload]

        env.compile = counting  # type: ignore[method-assign, assignment]
        return env, compiled

    first, compiled = environment()
    assert first.get_template("page.html").render(title="a") == "<p>a</p>"
    assert compiled == ["page.html"]
    second, compiled = environment()
    assert second.get_template("page.html").render(title="b") == "<p>b</p>"
    assert compiled == []  # loaded from the kept bytecode
    sources["page.html"] = "<h1>{{ title }}</h1>"
    third, compiled = environment()
    assert third.get_template("page.html").render(title="c") == "<h1>c</h1>"  # an edit is seen
    assert compiled == ["page.html"]
