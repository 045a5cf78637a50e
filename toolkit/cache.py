"""A content-addressed cache of check results per chapter.

Key: sha256 over everything a chapter's findings depend on: the bytes of the translation,
its English basis and today's English (and candidate revisions), tabs, language, the book's
labels, the rule selection, and the toolkit's own source files (so editing a rule invalidates
every entry). Nothing is keyed by mtime. Entries are written atomically (temp file + rename);
an unreadable entry is a miss, never an error.

One ``ResultCache`` object also remembers, for its own life, each file's digest and labels by
the file's version (inode, mtime, size), and the findings of every key it read or wrote (a key
names its content, so a remembered entry never goes stale): a long-lived process
(``mkdocs serve``) that checks the book again after an edit re-reads the edited file only.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Callable
from dataclasses import asdict
from functools import lru_cache
from pathlib import Path

from toolkit.findings import Finding

CACHE_FORMAT = 2


@lru_cache(maxsize=1)
def toolkit_fingerprint() -> str:
    digest = hashlib.sha256()
    package = Path(__file__).resolve().parent
    for path in sorted(package.rglob("*")):
        if path.suffix in (".py", ".j2") and path.is_file():
            digest.update(str(path.relative_to(package)).encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()


def file_version(path: Path) -> tuple[int, int, int]:
    """(inode, mtime, size) of a file or folder: what the in-memory caches compare to notice
    an edit (a save that replaces the file changes its inode). Raises OSError."""
    status = path.stat()
    return (status.st_ino, status.st_mtime_ns, status.st_size)


class ResultCache:
    def __init__(self, directory: Path) -> None:
        self.directory = directory / "results"
        self.hits = 0
        self.misses = 0
        self._digests: dict[Path, tuple[tuple[int, int, int], bytes]] = {}
        self._labels: dict[Path, tuple[tuple[int, int, int], tuple[str, ...]]] = {}
        self._findings: dict[str, tuple[Finding, ...]] = {}

    def key(self, parts: list[str], files: list[Path]) -> str:
        digest = hashlib.sha256(f"{CACHE_FORMAT}\0{toolkit_fingerprint()}".encode())
        for part in parts:
            digest.update(b"\0" + part.encode("utf-8", "surrogateescape"))
        for path in files:
            digest.update(b"\0" + self._digest(path))
        return digest.hexdigest()

    def _digest(self, path: Path) -> bytes:
        """sha256 of the file's bytes, read again only when its stat changed."""
        version = file_version(path)
        known = self._digests.get(path)
        if known is not None and known[0] == version:
            return known[1]
        digest = hashlib.sha256(path.read_bytes()).digest()
        self._digests[path] = (version, digest)
        return digest

    @staticmethod
    def _read(entry: Path) -> object:
        """The entry's JSON, or None when it is missing or unreadable."""
        try:
            data: object = json.loads(entry.read_text("utf-8"))
        except (OSError, ValueError):
            return None
        return data

    def labels(self, path: Path, compute: Callable[[], list[str]]) -> list[str]:
        """The labels a file defines, in document order, cached by the file's content (and
        the toolkit's)."""
        version = file_version(path)
        known = self._labels.get(path)
        if known is not None and known[0] == version:
            return list(known[1])
        labels = self._stored_labels(path, compute)
        self._labels[path] = (version, tuple(labels))
        return labels

    def has_labels(self, path: Path) -> bool:
        """Whether the file's labels are cached (``labels`` would not compute them)."""
        version = file_version(path)
        known = self._labels.get(path)
        if known is not None and known[0] == version:
            return True
        stored = self._read(self._labels_entry(path))
        if not isinstance(stored, list):
            return False
        self._labels[path] = (version, tuple(str(label) for label in stored))
        return True

    def _labels_entry(self, path: Path) -> Path:
        key = self.key(["ordered-labels"], [path])
        return self.directory.parent / "labels" / key[:2] / f"{key}.json"

    def _stored_labels(self, path: Path, compute: Callable[[], list[str]]) -> list[str]:
        entry = self._labels_entry(path)
        stored = self._read(entry)
        if isinstance(stored, list):
            return [str(label) for label in stored]
        labels = compute()
        self._write(entry, labels)
        return labels

    def get(self, key: str) -> list[Finding] | None:
        known = self._findings.get(key)
        if known is None:
            data = self._read(self.directory / key[:2] / f"{key}.json")
            try:
                if not isinstance(data, list):
                    raise TypeError("not a list of findings")
                known = tuple(
                    Finding(
                        **{
                            **item,
                            "items": tuple(item.get("items", ())),
                            "marks": tuple(item.get("marks", ())),
                        }
                    )
                    for item in data
                )
            except (AttributeError, TypeError):
                self.misses += 1
                return None
            self._findings[key] = known
        self.hits += 1
        return list(known)

    def put(self, key: str, findings: list[Finding]) -> None:
        self._findings[key] = tuple(findings)
        self._write(self.directory / key[:2] / f"{key}.json", [asdict(f) for f in findings])

    @staticmethod
    def _write(path: Path, data: object) -> None:
        write_json_atomic(path, data)


def write_json_atomic(path: Path, data: object) -> None:
    """Write-then-rename: a reader (or a run killed mid-write) never sees half a file."""
    write_text_atomic(path, json.dumps(data, ensure_ascii=False))


def write_text_atomic(path: Path, text: str) -> None:
    """``text`` into ``path`` (UTF-8, newlines as given) by write-then-rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    with os.fdopen(handle, "w", encoding="utf-8", newline="") as out:
        out.write(text)
    os.replace(temporary, path)
