"""Outputs that travel: one archive of the cached program runs, made on one machine (a GPU
box, a Ray cluster's driver) and imported on another, so a site built anywhere shows them.

An archive is a gzip'd tar holding ``index.json`` and ``outputs/<key>.json``: exactly the
content-addressed entries of ``<cache>/outputs/`` (``StoredRun``), and, per key, its sha256.

Invariants:
- An archive comes from another machine: import reads nothing outside its own members,
  accepts only regular files named as above, no larger than ``MAX_MEMBER_BYTES`` (the archive
  no larger than ``MAX_ARCHIVE_BYTES`` unpacked), each listed in the index with its sha256, each
  a ``StoredRun`` whose key is its file's name and whose images are base64. Anything else
  refuses the whole archive before one entry is written.
- Import never replaces an entry the cache has (a key names its program: both are runs of it).
- Entries are written by write-then-rename: an interrupted import leaves whole entries only.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
import tarfile
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from toolkit.cache import write_json_atomic
from toolkit.execute.results import StoredRun

ARCHIVE_FORMAT = "d2l-i18n-toolkit outputs"
ARCHIVE_VERSION = 1
INDEX = "index.json"
MEMBER = re.compile(r"outputs/(?P<key>[0-9a-f]{32})\.json")
MAX_MEMBER_BYTES = 256 * 1024 * 1024
MAX_ARCHIVE_BYTES = 16 * 1024 * 1024 * 1024
MAX_MEMBERS = 200_000
BASE64 = re.compile(r"[A-Za-z0-9+/=\s]*")
IMAGE_TYPES = ("image/png", "image/jpeg", "image/gif")


class ArchiveError(ValueError):
    """An archive that cannot be imported (or written), with the reason."""


@dataclass(frozen=True)
class Imported:
    """What an import did: keys written, and keys the cache already had."""

    written: tuple[str, ...]
    present: tuple[str, ...]


def export_runs(keys: Iterable[str], outputs_dir: Path, archive: Path) -> int:
    """Pack the cache's runs of ``keys`` into ``archive`` (replaced whole, never half-written);
    returns how many. A key without a readable entry is left out."""
    runs: dict[str, bytes] = {}
    for key in sorted(set(keys)):
        try:
            data = (outputs_dir / f"{key}.json").read_bytes()
            stored = StoredRun.from_json(json.loads(data))
        except (OSError, ValueError):
            continue
        if stored.key == key:
            runs[key] = data
    index = {
        "format": ARCHIVE_FORMAT,
        "version": ARCHIVE_VERSION,
        "runs": {key: hashlib.sha256(data).hexdigest() for key, data in runs.items()},
    }
    archive.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=archive.parent, prefix=f".{archive.name}.", delete=False) as handle:
        temporary = Path(handle.name)
        try:
            with tarfile.open(fileobj=handle, mode="w:gz") as tar:
                _add(tar, INDEX, json.dumps(index, indent=1).encode())
                for key, data in runs.items():
                    _add(tar, f"outputs/{key}.json", data)
        except BaseException:
            temporary.unlink(missing_ok=True)
            raise
    temporary.replace(archive)
    return len(runs)


def _add(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mode = 0o644
    tar.addfile(info, io.BytesIO(data))


def read_archive(archive: Path) -> dict[str, StoredRun]:
    """Every run in ``archive``, checked (module docstring); raises ArchiveError naming the
    first thing wrong."""
    if not archive.is_file():
        raise ArchiveError(f"{archive}: no such file")
    try:
        with tarfile.open(archive, mode="r:gz") as tar:
            members = _members(archive, tar)
    except (OSError, tarfile.TarError, EOFError) as error:
        raise ArchiveError(f"{archive}: not a gzip'd tar archive, or a damaged one ({error})") from error
    digests = _index(archive, members.pop(INDEX, None))
    runs: dict[str, StoredRun] = {}
    for name, data in members.items():
        key = MEMBER.fullmatch(name)["key"]  # type: ignore[index]  # every name was matched above
        if key not in digests:
            raise ArchiveError(f"{archive}: {name!r} is not in {INDEX}")
        if hashlib.sha256(data).hexdigest() != digests[key]:
            raise ArchiveError(f"{archive}: {name!r} does not match its sha256 in {INDEX}")
        try:
            stored = StoredRun.from_json(json.loads(data.decode("utf-8")))
        except (UnicodeDecodeError, ValueError) as error:
            raise ArchiveError(f"{archive}: {name!r} is not a stored run ({error})") from error
        if stored.key != key:
            raise ArchiveError(f"{archive}: {name!r} holds the run of another key ({stored.key!r})")
        _check_images(archive, name, stored)
        runs[key] = stored
    missing = sorted(set(digests) - set(runs))
    if missing:
        raise ArchiveError(
            f"{archive}: {INDEX} lists {len(missing)} run(s) the archive lacks, e.g. {missing[0]}"
        )
    return runs


def _members(archive: Path, tar: tarfile.TarFile) -> dict[str, bytes]:
    """The bytes of every member, each checked before it is read."""
    members: dict[str, bytes] = {}
    total = 0
    for member in tar:
        where = f"{archive}: {member.name!r}"
        if len(members) >= MAX_MEMBERS:
            raise ArchiveError(f"{archive}: more than {MAX_MEMBERS:,} members")
        if not member.isreg():
            raise ArchiveError(f"{where} is not a regular file")
        if member.name != INDEX and not MEMBER.fullmatch(member.name):
            raise ArchiveError(f"{where} is neither {INDEX} nor outputs/<32 hex digits>.json")
        if member.name in members:
            raise ArchiveError(f"{where} appears twice")
        if member.size > MAX_MEMBER_BYTES:
            raise ArchiveError(f"{where} is {member.size:,} bytes (at most {MAX_MEMBER_BYTES:,})")
        total += member.size
        if total > MAX_ARCHIVE_BYTES:
            raise ArchiveError(f"{archive}: more than {MAX_ARCHIVE_BYTES:,} bytes unpacked")
        handle = tar.extractfile(member)
        if handle is None:
            raise ArchiveError(f"{where} cannot be read")
        members[member.name] = handle.read(MAX_MEMBER_BYTES + 1)
    return members


def _index(archive: Path, data: bytes | None) -> dict[str, str]:
    if data is None:
        raise ArchiveError(f"{archive}: no {INDEX} (not an archive `run-cells --export-cache` wrote)")
    try:
        index = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as error:
        raise ArchiveError(f"{archive}: {INDEX} is not JSON ({error})") from error
    if not isinstance(index, dict) or index.get("format") != ARCHIVE_FORMAT:
        raise ArchiveError(f"{archive}: not an archive `run-cells --export-cache` wrote")
    if index.get("version") != ARCHIVE_VERSION:
        raise ArchiveError(
            f"{archive}: archive version {index.get('version')!r}; this toolkit reads version {ARCHIVE_VERSION}"
        )
    runs = index.get("runs")
    if not isinstance(runs, dict) or not all(
        isinstance(k, str) and isinstance(v, str) and re.fullmatch(r"[0-9a-f]{64}", v)
        for k, v in runs.items()
    ):
        raise ArchiveError(f"{archive}: {INDEX}'s runs are not key -> sha256")
    return dict(runs)


def _check_images(archive: Path, name: str, stored: StoredRun) -> None:
    """An image output is base64 text: what the page writes into a data: URL."""
    for cell in stored.run.cells:
        for output in cell.outputs:
            data = output.get("data", {})
            if not isinstance(data, dict):
                raise ArchiveError(
                    f"{archive}: {name!r}: line {cell.line}: an output's data is not an object"
                )
            for mime in IMAGE_TYPES:
                payload = data.get(mime)
                text = "".join(payload) if isinstance(payload, list) else payload
                if payload is not None and not (isinstance(text, str) and BASE64.fullmatch(text)):
                    raise ArchiveError(
                        f"{archive}: {name!r}: line {cell.line}: a {mime} output that is not base64"
                    )


def import_runs(archive: Path, outputs_dir: Path) -> Imported:
    """Check ``archive`` whole, then add its runs the cache lacks to ``outputs_dir``."""
    runs = read_archive(archive)
    written: list[str] = []
    present: list[str] = []
    for key, stored in sorted(runs.items()):
        entry = outputs_dir / f"{key}.json"
        if StoredRun.load(entry) is not None:
            present.append(key)
            continue
        write_json_atomic(entry, stored.to_json())
        written.append(key)
    return Imported(tuple(written), tuple(present))
