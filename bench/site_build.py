"""Benchmark: this project's site build against the tools a user would pick instead, in one run.

Four real `mkdocs build` runs in fresh processes, on the same chapter files:

- plain MkDocs Material, English only (today's English chapters and figures);
- mkdocs-static-i18n (folder layout), every language the site publishes, each from the
  edition the site shows for it (mkdocs.yml's `editions`), English as the default and the
  fallback for files a language lacks;
- ours, English only (TOOLKIT_SITE_LANGUAGES=en), and ours, every language, after a warm-up
  build that fills the check-alignment cache as `make setup` leaves it.

The comparators run in their own virtual environment (~/.cache/d2l-i18n-toolkit/bench/, built
once with the same mkdocs-material as ours plus mkdocs-static-i18n) and render d2l's Markdown
as it is: no roles, tabs, numbers, outputs or notebooks. Prints absolute times and sizes and
the ratios the project's goals name (issue #21: time <= 1.0x static-i18n, English only <= 1.5x
plain Material, output <= 1.2x static-i18n's size). Usage: python bench/site_build.py [--repeat N]
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.metadata
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from toolkit.config import load_editions, load_lock, load_project  # noqa: E402
from toolkit.site.book import SiteOptions, pick_edition  # noqa: E402

MKDOCS = Path(sys.executable).parent / "mkdocs"
STATIC_I18N = "mkdocs-static-i18n==1.3.1"
EXTENSIONS = """markdown_extensions:
  - admonition
  - attr_list
  - md_in_html
  - tables
  - toc: {permalink: true}
  - pymdownx.arithmatex: {generic: true}
  - pymdownx.highlight
  - pymdownx.superfences
  - pymdownx.tabbed: {alternate_style: true}
"""


def comparator_venv() -> Path:
    """The comparators' environment: built once per (mkdocs-material, static-i18n) pair."""
    material = f"mkdocs-material=={importlib.metadata.version('mkdocs-material')}"
    name = hashlib.sha256(f"{material} {STATIC_I18N}".encode()).hexdigest()[:12]
    root = Path(os.environ.get("TOOLKIT_BENCH_DIR", Path.home() / ".cache/d2l-i18n-toolkit/bench")) / name
    if not (root / "ready").is_file():
        shutil.rmtree(root, ignore_errors=True)
        subprocess.run([sys.executable, "-m", "venv", str(root)], check=True)
        subprocess.run([str(root / "bin/pip"), "install", "--quiet", material, STATIC_I18N], check=True)
        (root / "ready").write_text(f"{material} {STATIC_I18N}\n", "utf-8")
    return root


def copy_book(source: Path, target: Path) -> int:
    """An edition's (or English's) published Markdown and figures, as they are; returns files."""
    count = 0
    for path in [
        source / "index.md",
        *sorted(source.glob("chapter_*/**/*.md")),
        *sorted((source / "img").glob("*")),
    ]:
        if not path.is_file() or path.name.endswith("_origin.md"):
            continue
        destination = target / path.relative_to(source)
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(path, destination)
        count += 1
    return count


def comparator_project(scratch: Path, languages: dict[str, Path], i18n: bool) -> Path:
    project = scratch / ("static-i18n" if i18n else "plain")
    docs = project / "docs"
    if i18n:
        for language, source in languages.items():
            copy_book(source, docs / language)
        entries = "".join(
            f"        - locale: {language}\n          name: {language}\n          build: true\n"
            + ("          default: true\n" if language == "en" else "")
            for language in languages
        )
        plugins = (
            f"plugins:\n  - search\n  - i18n:\n      docs_structure: folder\n      languages:\n{entries}"
        )
    else:
        copy_book(languages["en"], docs)
        plugins = "plugins:\n  - search\n"
    config = f"site_name: d2l\ndocs_dir: docs\ntheme:\n  name: material\n  font: false\n{plugins}{EXTENSIONS}"
    (project / "mkdocs.yml").write_text(config, "utf-8")
    return project


def timed_build(mkdocs: Path, project: Path, site: Path, env: dict[str, str] | None = None) -> float:
    started = time.perf_counter()
    result = subprocess.run(
        [str(mkdocs), "build", "--quiet", "--site-dir", str(site)],
        cwd=project,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1", **(env or {})},
        capture_output=True,
        text=True,
    )
    elapsed = time.perf_counter() - started
    if result.returncode != 0:
        sys.exit(f"mkdocs build in {project} failed:\n{result.stderr[-3000:]}")
    return elapsed


def size_of(site: Path) -> tuple[int, int]:
    """(bytes, HTML pages) of a built site."""
    files = [p for p in site.rglob("*") if p.is_file()]
    return sum(p.stat().st_size for p in files), sum(1 for p in files if p.suffix == ".html")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--repeat", type=int, default=1, help="builds of each kind; the best time counts")
    args = parser.parse_args()
    config = load_project(ROOT)
    lock = load_lock(config.source_dir / "LOCK.toml")
    editions = load_editions(config)
    options = SiteOptions(editions={"ko": "ko-partrita"})  # as mkdocs.yml publishes it
    languages = {"en": config.source_dir / lock.today.id}
    for language in sorted({e.language for e in editions} - {"en"}):
        edition = pick_edition(language, editions, lock, options)
        if edition is not None:
            languages[language] = edition.directory
    venv = comparator_venv()
    results: dict[str, tuple[float, int, int]] = {}
    with tempfile.TemporaryDirectory(prefix="bench-site-") as directory:
        scratch = Path(directory)
        plain = comparator_project(scratch, languages, i18n=False)
        static = comparator_project(scratch, languages, i18n=True)
        timed_build(MKDOCS, ROOT, scratch / "warm-up")  # the check-alignment cache, as after make setup
        runs = {
            "plain Material, English only": (venv / "bin/mkdocs", plain, {}),
            f"static-i18n, {len(languages)} languages": (venv / "bin/mkdocs", static, {}),
            "ours, English only": (MKDOCS, ROOT, {"TOOLKIT_SITE_LANGUAGES": "en"}),
            f"ours, {len(languages)} languages": (MKDOCS, ROOT, {}),
        }
        for name, (mkdocs, project, env) in runs.items():
            sites = [scratch / f"{name}-{i}".replace(" ", "_").replace(",", "") for i in range(args.repeat)]
            best = min(timed_build(mkdocs, project, site, env) for site in sites)
            results[name] = (best, *size_of(sites[0]))
    for name, (seconds, size, pages) in results.items():
        print(f"{name:<32} {seconds:7.1f} s  {size / 1e6:7.1f} MB  {pages:5} pages")
    (plain_s, _, _), (static_s, static_b, _), (ours_en_s, _, _), (ours_s, ours_b, _) = results.values()
    print(f"ours / static-i18n, time:         {ours_s / static_s:.2f}x (goal <= 1.0x)")
    print(f"ours / plain Material, English:   {ours_en_s / plain_s:.2f}x (goal <= 1.5x)")
    print(f"ours / static-i18n, output size:  {ours_b / static_b:.2f}x (goal <= 1.2x)")


if __name__ == "__main__":
    main()
