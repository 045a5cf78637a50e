"""A content-addressed cache of check results per chapter.

Key: sha256 over everything a chapter's findings depend on: the bytes of the translation,
its English basis and today's English (and candidate revisions), tabs, language, the book's
labels, the rule selection, and the toolkit's own source files (so editing a rule invalidates
every entry). Nothing is keyed by mtime. Entries are written atomically (temp file + rename);
an unreadable entry is a miss, never an error.
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


class ResultCache:
    def __init__(self, directory: Path) -> None:
        self.directory = directory / "results"
        self.hits = 0
        self.misses = 0

    @staticmethod
    def key(parts: list[str], files: list[Path]) -> str:
        digest = hashlib.sha256(f"{CACHE_FORMAT}\0{toolkit_fingerprint()}".encode())
        for part in parts:
            digest.update(b"\0" + part.encode("utf-8", "surrogateescape"))
        for path in files:
            digest.update(b"\0" + hashlib.sha256(path.read_bytes()).digest())
        return digest.hexdigest()

    def labels(self, path: Path, compute: Callable[[], list[str]]) -> list[str]:
        """The labels a file defines, in document order, cached by the file's content (and
        the toolkit's)."""
        key = self.key(["ordered-labels"], [path])
        entry = self.directory.parent / "labels" / key[:2] / f"{key}.json"
        try:
            stored = json.loads(entry.read_text("utf-8"))
            if isinstance(stored, list):
                return [str(label) for label in stored]
        except (OSError, ValueError):
            pass
        labels = compute()
        self._write(entry, labels)
        return labels

    def get(self, key: str) -> list[Finding] | None:
        path = self.directory / key[:2] / f"{key}.json"
        try:
            data = json.loads(path.read_text("utf-8"))
            findings = [Finding(**{**item, "items": tuple(item.get("items", ()))}) for item in data]
        except (OSError, ValueError, TypeError):
            self.misses += 1
            return None
        self.hits += 1
        return findings

    def put(self, key: str, findings: list[Finding]) -> None:
        self._write(self.directory / key[:2] / f"{key}.json", [asdict(f) for f in findings])

    @staticmethod
    def _write(path: Path, data: object) -> None:
        write_json_atomic(path, data)


def write_json_atomic(path: Path, data: object) -> None:
    """Write-then-rename: a reader (or a run killed mid-write) never sees half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    with os.fdopen(handle, "w", encoding="utf-8") as out:
        json.dump(data, out, ensure_ascii=False)
    os.replace(temporary, path)
