"""Set-up of ``source_en/``: copy the English revisions from ``../shared/corpus`` and verify
them against the committed ``source_en/LOCK.toml``.

English text is upstream text: it is never committed, only its hashes are. Invariant: after
``sync_sources`` every locked file exists at ``source_en/<revision>/<path>`` with the locked
sha256, or a ``SourceError`` names each file that is missing or altered, with the hash expected.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from toolkit.config import Lock, LockedFile


class SourceError(Exception):
    """Source files missing or altered; the message lists them all."""


@dataclass(frozen=True)
class SyncResult:
    copied: tuple[str, ...]
    verified: tuple[str, ...]


def sha256_file(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def source_path(source_dir: Path, entry: LockedFile) -> Path:
    return source_dir / entry.revision / entry.path


def verify_sources(lock: Lock, source_dir: Path) -> list[str]:
    """Problems with ``source_en/`` as it is, one line each (empty when all is well). A
    revision read whole is checked for its lock and directory (``toolkit sync`` verified
    every file against the lock when it copied them)."""
    problems = [
        f"{source_dir / revision.id}: English {revision.id} is not set up; run `toolkit sync`"
        for revision in lock.revisions
        if revision.whole
        and not ((source_dir / revision.id).is_dir() and (source_dir / f"{revision.id}.files.lock").is_file())
    ]
    for entry in lock.files:
        target = source_path(source_dir, entry)
        if not target.is_file():
            problems.append(f"{target}: missing (expected sha256 {entry.sha256}); run `toolkit sync`")
        elif (actual := sha256_file(target)) != entry.sha256:
            problems.append(f"{target}: altered: sha256 {actual}, expected {entry.sha256}")
    return problems


def sync_sources(lock: Lock, source_dir: Path, corpus_dir: Path) -> SyncResult:
    problems, copied, verified = [], [], []
    for entry in lock.files:
        target = source_path(source_dir, entry)
        if target.is_file() and sha256_file(target) == entry.sha256:
            verified.append(str(target))
            continue
        origin = corpus_dir / entry.corpus
        if not origin.is_file():
            problems.append(
                f"{origin}: missing from the corpus (needed for {entry.revision}/{entry.path}, sha256 {entry.sha256})"
            )
            continue
        data = origin.read_bytes()
        actual = hashlib.sha256(data).hexdigest()
        if actual != entry.sha256:
            problems.append(
                f"{origin}: sha256 {actual} does not match the lock ({entry.sha256}) for {entry.revision}/{entry.path}"
            )
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        # write then rename: an interrupted set-up never leaves a half-written source file
        handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=".sync-")
        with os.fdopen(handle, "wb") as out:
            out.write(data)
        os.replace(temporary, target)
        copied.append(str(target))
    if problems:
        raise SourceError("\n".join(problems))
    return SyncResult(tuple(copied), tuple(verified))
