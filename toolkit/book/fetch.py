"""Getting a repository's files at a pinned commit: from git (a real user's path) or from a
mirror directory (these machines, which have no network, read ``../shared/book``).

Invariants:
- ``fetch_snapshot`` returns a directory holding the repository's tree at exactly ``commit``,
  or raises ``FetchError`` saying what failed. Nothing half-fetched is ever returned: a git
  snapshot is extracted into a temporary directory and renamed into place when complete.
- Git repositories and snapshots live outside the checkout (``~/.cache/d2l-i18n-toolkit/repos``
  or ``$TOOLKIT_REPO_DIR``), so clones and CI runs reuse them; a snapshot is keyed by URL and
  commit and never changes once complete.
- A mirror is trusted only as far as it says: when its parent holds the book's
  ``MANIFEST.tsv`` (edition, path, sha256, commit), the mirror must be at the pinned commit.
  The project's lock of hashes then proves every file (``toolkit.book.sync``).
"""

from __future__ import annotations

import csv
import hashlib
import io
import os
import re
import shutil
import subprocess
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path

from toolkit.config import COMMIT


class FetchError(Exception):
    """A repository could not be read at its pinned commit; the message says why."""


@dataclass(frozen=True)
class RepositorySource:
    """Where one repository's files come from."""

    name: str  # the edition id, or "en" for English
    repository: str  # "d2l-ai/d2l-ko"
    commit: str
    url: str  # git URL
    mirror: Path | None  # a directory at `commit`, when configured and present

    @property
    def kind(self) -> str:
        return "mirror" if self.mirror is not None else "git"

    def describe(self) -> str:
        return f"mirror {self.mirror}" if self.mirror is not None else f"git {self.url}"


def repository_cache() -> Path:
    configured = os.environ.get("TOOLKIT_REPO_DIR")
    return Path(configured) if configured else Path.home() / ".cache" / "d2l-i18n-toolkit" / "repos"


def fetch_snapshot(source: RepositorySource) -> Path:
    if source.mirror is not None:
        return _check_mirror(source)
    return _git_snapshot(source.url, source.commit, repository_cache())


def _links_refused(where: str, links: list[str]) -> str:
    shown = ", ".join(sorted(links)[:5]) + (f" and {len(links) - 5} more" if len(links) > 5 else "")
    return (
        f"{where} holds {len(links)} symbolic link(s) ({shown}): refused, a link may point anywhere on "
        "the machine (a book's files are plain files)"
    )


#: what set-up reads of a d2lbook repository, besides ``chapter_*/``, ``d2l/`` and ``img/``
BOOK_EXTRAS = ("index.md", "config.ini", "d2l.bib", "TERMINOLOGY.md", "glossary.md")


def is_book_path(name: str) -> bool:
    """Whether a repository path is one set-up may read (or a folder holding such files)."""
    top = name.strip("/").split("/", 1)[0]
    return top in BOOK_EXTRAS or top.startswith("chapter_") or top in ("d2l", "img")


def symbolic_links(directory: Path) -> list[str]:
    """Every symbolic link among the book's paths under ``directory``, relative to it."""
    found = []
    for top in sorted(directory.iterdir()):
        if not is_book_path(top.name):
            continue
        if top.is_symlink():
            found.append(top.name)
            continue
        if not top.is_dir():
            continue
        for folder, folders, files in os.walk(top):
            for name in (*folders, *files):
                if os.path.islink(os.path.join(folder, name)):
                    found.append(os.path.relpath(os.path.join(folder, name), directory))
    return found


def _check_mirror(source: RepositorySource) -> Path:
    assert source.mirror is not None
    if source.mirror.is_symlink() or not source.mirror.is_dir():
        raise FetchError(f"{source.mirror}: mirror directory of {source.name} not found (or a link)")
    links = symbolic_links(source.mirror)
    if links:
        raise FetchError(_links_refused(f"mirror {source.mirror}", links))
    manifest = source.mirror.parent / "MANIFEST.tsv"
    if manifest.is_file():
        with manifest.open(encoding="utf-8") as handle:
            commits = {
                row["commit"]
                for row in csv.DictReader(handle, delimiter="\t")
                if row.get("edition") == source.mirror.name
            }
        if commits and commits != {source.commit}:
            raise FetchError(
                f"{source.mirror}: the mirror holds {source.name} at {', '.join(sorted(c[:12] for c in commits))}, "
                f"not at the pinned commit {source.commit[:12]} ({manifest})"
            )
    return source.mirror


def _slug(url: str) -> str:
    name = re.sub(r"[^A-Za-z0-9]+", "-", url.rstrip("/").removesuffix(".git").split("/")[-1]).strip("-")
    return f"{name or 'repo'}-{hashlib.sha256(url.encode()).hexdigest()[:10]}"


def _git(*args: str, cwd: Path | None = None, stdin: bytes | None = None) -> bytes:
    try:
        done = subprocess.run(
            ["git", *args], cwd=cwd, input=stdin, capture_output=True, timeout=1800, check=False
        )
    except FileNotFoundError as error:
        raise FetchError("git is not installed (needed to fetch editions; or configure a mirror)") from error
    except subprocess.TimeoutExpired as error:
        raise FetchError(f"git {' '.join(args[:2])} took more than 30 minutes") from error
    if done.returncode != 0:
        message = done.stderr.decode("utf-8", "replace").strip().splitlines()
        raise FetchError(f"git {' '.join(args)}: {message[-1] if message else f'exit {done.returncode}'}")
    return done.stdout


def _git_snapshot(url: str, commit: str, cache: Path) -> Path:
    snapshot = cache / "snapshots" / f"{_slug(url)}-{commit[:12]}"
    if (snapshot / ".toolkit-complete").is_file():
        return snapshot
    if not COMMIT.fullmatch(commit):
        raise FetchError(f"commit {commit!r} is not a commit id (7 to 40 hex digits)")
    if url.startswith("-") or "::" in url.split("/", 1)[0]:
        raise FetchError(f"{url!r} is not a repository URL git may fetch from")
    repo = cache / "git" / f"{_slug(url)}.git"
    if not (repo / "HEAD").is_file():
        repo.parent.mkdir(parents=True, exist_ok=True)
        partial = Path(tempfile.mkdtemp(dir=repo.parent, prefix=".clone-"))
        try:
            # `--` before every value a configuration gives: git never reads one as an option
            _git("-c", "protocol.ext.allow=never", "clone", "--bare", "--quiet", "--", url, str(partial))
            os.replace(partial, repo)
        finally:
            shutil.rmtree(partial, ignore_errors=True)
    try:
        _git("cat-file", "-e", "--end-of-options", f"{commit}^{{commit}}", cwd=repo)
    except FetchError:
        try:  # a commit the clone does not have yet (the pin moved forward)
            _git("-c", "protocol.ext.allow=never", "fetch", "--quiet", "--", "origin", commit, cwd=repo)
        except FetchError:
            _git(
                "-c",
                "protocol.ext.allow=never",
                "fetch",
                "--quiet",
                "--",
                "origin",
                "+refs/heads/*:refs/heads/*",
                cwd=repo,
            )
        try:
            _git("cat-file", "-e", "--end-of-options", f"{commit}^{{commit}}", cwd=repo)
        except FetchError as error:
            raise FetchError(f"{url}: commit {commit} not found in the repository") from error
    archive = _git("archive", "--format=tar", "--end-of-options", commit, cwd=repo)
    snapshot.parent.mkdir(parents=True, exist_ok=True)
    partial = Path(tempfile.mkdtemp(dir=snapshot.parent, prefix=".snapshot-"))
    try:
        try:
            with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
                members = tar.getmembers()
                links = [m.name for m in members if (m.issym() or m.islnk()) and is_book_path(m.name)]
                if links:
                    raise FetchError(_links_refused(f"{url} at {commit[:12]}", links))
                # links elsewhere in the repository are no book file: not extracted at all
                plain = [m for m in members if not (m.issym() or m.islnk())]
                tar.extractall(partial, members=plain, filter="data")
        except tarfile.TarError as error:
            raise FetchError(f"{url} at {commit[:12]}: cannot extract the snapshot: {error}") from error
        (partial / ".toolkit-complete").write_text(f"{url}\n{commit}\n", "utf-8")
        if snapshot.exists():
            shutil.rmtree(snapshot)
        os.replace(partial, snapshot)
    finally:
        shutil.rmtree(partial, ignore_errors=True)
    return snapshot
