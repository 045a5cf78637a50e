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


def _check_mirror(source: RepositorySource) -> Path:
    assert source.mirror is not None
    if not source.mirror.is_dir():
        raise FetchError(f"{source.mirror}: mirror directory of {source.name} not found")
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
    repo = cache / "git" / f"{_slug(url)}.git"
    if not (repo / "HEAD").is_file():
        repo.parent.mkdir(parents=True, exist_ok=True)
        partial = Path(tempfile.mkdtemp(dir=repo.parent, prefix=".clone-"))
        try:
            _git("clone", "--bare", "--quiet", url, str(partial))
            os.replace(partial, repo)
        finally:
            shutil.rmtree(partial, ignore_errors=True)
    try:
        _git("cat-file", "-e", f"{commit}^{{commit}}", cwd=repo)
    except FetchError:
        try:  # a commit the clone does not have yet (the pin moved forward)
            _git("fetch", "--quiet", "origin", commit, cwd=repo)
        except FetchError:
            _git("fetch", "--quiet", "origin", "+refs/heads/*:refs/heads/*", cwd=repo)
        try:
            _git("cat-file", "-e", f"{commit}^{{commit}}", cwd=repo)
        except FetchError as error:
            raise FetchError(f"{url}: commit {commit} not found in the repository") from error
    archive = _git("archive", "--format=tar", commit, cwd=repo)
    snapshot.parent.mkdir(parents=True, exist_ok=True)
    partial = Path(tempfile.mkdtemp(dir=snapshot.parent, prefix=".snapshot-"))
    try:
        with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
            tar.extractall(partial, filter="data")
        (partial / ".toolkit-complete").write_text(f"{url}\n{commit}\n", "utf-8")
        if snapshot.exists():
            shutil.rmtree(snapshot)
        os.replace(partial, snapshot)
    finally:
        shutil.rmtree(partial, ignore_errors=True)
    return snapshot
