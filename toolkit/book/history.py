"""English's history: which English a file is, proven by its bytes.

Only English at a revision is trusted to execute. A file an edition ships as English (an
``x_origin.md``, a ``d2l/*.py``) is data a contributor wrote until its bytes are shown to be one
of English's versions: this module answers that question and nothing else.

Invariants:
- A file is English when its sha256 is that of a version of an English book file in
  ``history.tsv`` (every version of every file of d2l-en on any branch, as ``git log --all --raw``
  of a clone gives it), of a file of an English revision the project locks
  (``source_en/<revision>.files.lock``) or of a file of an English release
  (``english/MANIFEST.tsv``). Nothing else proves a file: not its name, not where it lies, not
  the lock of an edition (an edition's lock proves what set-up read from *the edition*).
- The answer depends on the bytes only: an edited file proves nothing, even at a locked path.
- A file is read and hashed once per version (inode, mtime, size).
"""

from __future__ import annotations

import configparser
import csv
import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

from toolkit.cache import file_version

HISTORY_NAME = "history.tsv"


@dataclass(frozen=True)
class EnglishVersion:
    """One version of one English book file."""

    path: str  # where English has (or had) it: "chapter_preliminaries/ndarray.md"
    sha256: str
    commit: str  # the first commit that had this version at this path ("" when not known)
    date: str = ""


class EnglishHistory:
    """Every English version the project knows, by sha256."""

    def __init__(self, versions: list[EnglishVersion]) -> None:
        self._by_sha: dict[str, EnglishVersion] = {}
        self._paths: dict[str, set[str]] = {}  # sha256 -> every path English had it at
        self._shas: dict[str, set[str]] = {}  # path -> every version's sha256
        for version in versions:
            self._by_sha.setdefault(version.sha256, version)
            self._paths.setdefault(version.sha256, set()).add(version.path)
            self._shas.setdefault(version.path, set()).add(version.sha256)
        self._files: dict[Path, tuple[tuple[int, int, int], EnglishVersion | None]] = {}

    def __len__(self) -> int:
        return len(self._by_sha)

    def renamed(self, path: str) -> frozenset[str]:
        """Every other path English kept one of ``path``'s versions at, and theirs in turn:
        git's exact renames (a chapter moved as it was, then edited)."""
        seen, todo = {path}, [path]
        while todo:
            for sha in self._shas.get(todo.pop(), ()):
                for other in self._paths[sha] - seen:
                    seen.add(other)
                    todo.append(other)
        return frozenset(seen - {path})

    def version_of_bytes(self, data: bytes) -> EnglishVersion | None:
        return self._by_sha.get(hashlib.sha256(data).hexdigest())

    def version_of(self, path: Path) -> EnglishVersion | None:
        """The English version ``path``'s bytes are, or None (also when it cannot be read).

        A symbolic link proves nothing: a contributor's link may point anywhere."""
        if path.is_symlink():
            return None
        try:
            version = file_version(path)
        except OSError:
            return None
        known = self._files.get(path)
        if known is not None and known[0] == version:
            return known[1]
        try:
            found = self.version_of_bytes(path.read_bytes())
        except OSError:
            found = None
        self._files[path] = (version, found)
        return found


def _read_tsv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle, delimiter="\t"))


def load_history(english_dir: Path, source_dir: Path) -> EnglishHistory:
    """English's versions from ``english_dir`` (``history.tsv``, ``MANIFEST.tsv`` of the
    releases; either may be absent) and every English revision lock under ``source_dir``."""
    versions: list[EnglishVersion] = []
    history = english_dir / HISTORY_NAME
    if history.is_file():
        versions.extend(
            EnglishVersion(row["path"], row["sha256"], row.get("first_commit", ""), row.get("date", ""))
            for row in _read_tsv(history)
            if row.get("sha256")
        )
    releases = english_dir / "MANIFEST.tsv"
    if releases.is_file():
        versions.extend(
            EnglishVersion(row["path"], row["sha256"], row.get("commit", ""), row.get("release", ""))
            for row in _read_tsv(releases)
            if row.get("sha256")
        )
    for lock in sorted(source_dir.glob("*.files.lock")) if source_dir.is_dir() else ():
        commit = ""
        for line in lock.read_text("utf-8").splitlines():
            if line.startswith("# commit "):
                commit = line.split(" ", 2)[2]
            elif line and not line.startswith("#"):
                name, _, digest = line.partition("\t")
                versions.append(EnglishVersion(name, digest, commit))
    return EnglishHistory(versions)


RELEASE = re.compile(r"\d+\.\d+\.\d+")


def edition_release(edition_dir: Path) -> str:
    """The d2l release an edition's ``config.ini`` names (``release = 0.17.5``), or "".

    The file is a contributor's; it only chooses which of English's releases (both trusted)
    the edition is read against."""
    config = edition_dir / "config.ini"
    if config.is_symlink() or not config.is_file():
        return ""
    parser = configparser.ConfigParser(interpolation=None, strict=False)
    try:
        parser.read_string(config.read_text("utf-8", "replace"))
    except configparser.Error:
        return ""
    release = parser.get("project", "release", fallback="").strip()
    return release if RELEASE.fullmatch(release) else ""


def release_file(english_dir: Path, release: str, path: str) -> Path | None:
    """English's ``path`` at a release (``english/v0.17.5/chapter_x/y.md``), when there is one."""
    if not release:
        return None
    candidate = english_dir / f"v{release}" / path
    return candidate if candidate.is_file() and not candidate.is_symlink() else None


def release_library(english_dir: Path, release: str) -> Path:
    """Where English's ``d2l/`` library of a release lies (``english/v0.17.5/d2l``)."""
    return english_dir / f"v{release}" / "d2l"
