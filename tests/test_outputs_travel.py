"""Outputs travel: `run-cells --export-cache` on one machine, `--import-cache` on another.

The archive comes from another machine, so import is tested as a trust boundary: every
malformed or hostile archive is refused whole, before one entry is written. The end-to-end
test runs real kernels in one project copy and shows their outputs in another that ran none.
"""

from __future__ import annotations

import hashlib
import io
import json
import tarfile
from pathlib import Path

import pytest
from conftest import build_site, make_seed_project, toolkit_command

from toolkit.execute.archive import ArchiveError, export_runs, import_runs, read_archive
from toolkit.execute.devices import Device
from toolkit.execute.environments import Environment
from toolkit.execute.results import CellResult, ProgramRun, StoredRun
from toolkit.execute.runner import ExecutionSettings, RunReport, Source, plan_runs, run_cells
from toolkit.parser import parse_chapter

KEY_A = "a" * 32
KEY_B = "b" * 32
KEY_C = "c" * 32  # a good run beside a bad one
PNG = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="


def stored(key: str, text: str = "hi\n", image: str = PNG) -> StoredRun:
    outputs = (
        {"output_type": "stream", "name": "stdout", "text": text},
        {
            "output_type": "display_data",
            "data": {"image/png": image, "text/plain": "<Figure>"},
            "metadata": {},
        },
    )
    return StoredRun(
        key, "pytorch", "chapter_x/y.md", "gpu", ProgramRun((CellResult(7, "ok", outputs, 0.5),), 1.0)
    )


def cache_with(directory: Path, *runs: StoredRun) -> Path:
    outputs = directory / "outputs"
    outputs.mkdir(parents=True)
    for run in runs:
        (outputs / f"{run.key}.json").write_text(json.dumps(run.to_json()), "utf-8")
    return outputs


def test_an_exported_archive_imports_into_an_empty_cache_byte_for_byte(tmp_path: Path) -> None:
    source = cache_with(tmp_path / "a", stored(KEY_A), stored(KEY_B, "other\n"))
    archive = tmp_path / "runs.tar.gz"
    assert export_runs([KEY_A, KEY_B, KEY_C], source, archive) == 2  # a key the cache lacks is left out
    target = tmp_path / "b" / "outputs"
    imported = import_runs(archive, target)
    assert imported.written == (KEY_A, KEY_B) and imported.present == ()
    for key in (KEY_A, KEY_B):
        assert StoredRun.load(target / f"{key}.json") == StoredRun.load(source / f"{key}.json")
    # a second import finds both: the cache's own entries are never replaced
    assert import_runs(archive, target).present == (KEY_A, KEY_B)


def hostile(
    tmp_path: Path, members: list[tuple[tarfile.TarInfo, bytes]], index: dict[str, object] | None
) -> Path:
    archive = tmp_path / "hostile.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        if index is not None:
            data = json.dumps(index).encode()
            info = tarfile.TarInfo("index.json")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
        for info, data in members:
            info.size = len(data) if info.isreg() else 0
            tar.addfile(info, io.BytesIO(data) if info.isreg() else None)
    return archive


def member(
    name: str, data: bytes, kind: bytes = tarfile.REGTYPE, link: str = ""
) -> tuple[tarfile.TarInfo, bytes]:
    info = tarfile.TarInfo(name)
    info.type = kind
    info.linkname = link
    return info, data


def run_bytes(run: StoredRun) -> bytes:
    return json.dumps(run.to_json()).encode()


def index_of(**runs: bytes) -> dict[str, object]:
    return {
        "format": "d2l-i18n-toolkit outputs",
        "version": 1,
        "runs": {key: hashlib.sha256(data).hexdigest() for key, data in runs.items()},
    }


GOOD = run_bytes(stored(KEY_A))
CASES: dict[str, tuple[list[tuple[tarfile.TarInfo, bytes]], dict[str, object] | None, str]] = {
    "a path out of the cache": (
        [member("../../outside.json", GOOD)],
        index_of(),
        "neither index.json nor outputs/",
    ),
    "a symbolic link": (
        [member(f"outputs/{KEY_A}.json", b"", tarfile.SYMTYPE, "/etc/passwd")],
        index_of(),
        "not a regular file",
    ),
    "a member the index does not list": (
        [member(f"outputs/{KEY_A}.json", GOOD)],
        index_of(),
        "not in index.json",
    ),
    "a member whose bytes are not the index's": (
        [member(f"outputs/{KEY_A}.json", GOOD)],
        index_of(**{KEY_A: GOOD + b" "}),
        "does not match its sha256",
    ),
    "the run of another key under a key's name": (
        [member(f"outputs/{KEY_B}.json", GOOD)],
        index_of(**{KEY_B: GOOD}),
        "holds the run of another key",
    ),
    "an image that would break out of its attribute": (
        [member(f"outputs/{KEY_A}.json", bad := run_bytes(stored(KEY_A, image='x" onerror="alert(1)')))],
        index_of(**{KEY_A: bad}),
        "not base64",
    ),
    "a run of another shape": (
        [member(f"outputs/{KEY_A}.json", other := b'{"key": "' + KEY_A.encode() + b'", "cells": 3}')],
        index_of(**{KEY_A: other}),
        "not a stored run",
    ),
    "no index": ([member(f"outputs/{KEY_A}.json", GOOD)], None, "no index.json"),
    "an index of another version": ([], {**index_of(), "version": 99}, "archive version 99"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_a_hostile_or_broken_archive_is_refused_whole_and_nothing_is_written(
    tmp_path: Path, case: str
) -> None:
    members, index, message = CASES[case]
    # a good run beside the bad one, listed in the index: refused with it (nothing is written
    # before the whole archive is checked)
    good = run_bytes(stored(KEY_C))
    listed = index.get("runs") if index is not None else None
    if index is not None and isinstance(listed, dict):
        index = {**index, "runs": {**listed, KEY_C: hashlib.sha256(good).hexdigest()}}
    archive = hostile(tmp_path, [member(f"outputs/{KEY_C}.json", good), *members], index)
    target = tmp_path / "cache" / "outputs"
    with pytest.raises(ArchiveError, match=message):
        import_runs(archive, target)
    assert not target.exists() or not any(target.iterdir())
    assert not (tmp_path.parent / "outside.json").exists()


def test_a_file_that_is_no_archive_is_named_with_the_reason(tmp_path: Path) -> None:
    text = tmp_path / "runs.tar.gz"
    text.write_text("not gzip", "utf-8")
    with pytest.raises(ArchiveError, match="not a gzip'd tar archive"):
        read_archive(text)
    with pytest.raises(ArchiveError, match="no such file"):
        read_archive(tmp_path / "absent.tar.gz")


CHAPTER = "# T\n:label:`sec_t`\n\n```{.python .input}\n#@tab pytorch\nprint('hi')\n```\n"
TABS = ("pytorch",)


def test_a_gpu_run_serves_a_cpu_machine_and_never_the_other_way(tmp_path: Path) -> None:
    """A book run on a GPU box, imported here (a CPU machine): the page shows it, ran on GPU,
    and no kernel starts. A GPU machine never shows a CPU run in place of its own."""
    english = tmp_path / "en.md"
    english.write_text(CHAPTER, "utf-8")
    sources = [Source("en", "t.md", english, TABS, english, TABS)]
    environments = {"pytorch": Environment("pytorch", None, "lock", True)}  # keys only: nothing runs

    def parse(path: Path) -> object:
        return parse_chapter(str(path), path.read_bytes())

    on_gpu = plan_runs(sources, parse, TABS, environments, {"pytorch": Device("pytorch", "gpu", "")}, False)  # type: ignore[arg-type]
    assert [entry.fallback_keys for entry in on_gpu.programs.values()] == [()]
    on_cpu = plan_runs(sources, parse, TABS, environments, {"pytorch": Device("pytorch", "cpu", "")}, False)  # type: ignore[arg-type]
    (entry,) = on_cpu.programs.values()
    gpu_key = next(iter(on_gpu.programs))
    assert entry.fallback_keys == (gpu_key,) and entry.key != gpu_key
    run = StoredRun(
        gpu_key,
        "pytorch",
        "t.md",
        "gpu",
        ProgramRun(
            (CellResult(4, "ok", ({"output_type": "stream", "name": "stdout", "text": "hi\n"},), 0.1),), 0.1
        ),
    )
    cache_with(tmp_path / "cache", run)

    def from_cache() -> RunReport:
        return run_cells(
            sources,
            lambda p: parse_chapter(str(p), p.read_bytes()),
            TABS,
            tmp_path / "cache",
            tmp_path / "cells",
            ExecutionSettings(60, jobs=1),
            False,
            environments=environments,
            cached_only=True,
        )

    report = from_cache()
    shown = report.manifests[("en", "t.md")].frameworks["pytorch"]
    assert report.executions == 0 and shown.status == "ok" and shown.cached and shown.device == "gpu"
    assert shown.cells[0].outputs[0]["text"] == "hi\n"
    assert report.exportable_keys() == {gpu_key}
    # without the GPU run the page says it never ran: the fallback is what showed it
    (tmp_path / "cache" / "outputs" / f"{gpu_key}.json").unlink()
    again = from_cache()
    assert again.status("en", "t.md", "pytorch") == "not-run" and again.executions == 0


@pytest.mark.kernels
def test_outputs_run_in_one_project_copy_show_in_another_that_ran_nothing(tmp_path: Path) -> None:
    """Two copies of the seed project: the first runs PyTorch and exports; the second imports,
    starts no kernel, and its manifests and site carry the same outputs."""
    first = make_seed_project(tmp_path / "first")
    second = make_seed_project(tmp_path / "second")
    archive = tmp_path / "outputs.tar.gz"
    ran = toolkit_command(
        first, "run-cells", "-f", "pytorch", "--export-cache", str(archive), "--format", "json"
    )
    assert ran.returncode in (0, 1), ran.stderr[-2000:]
    assert json.loads(ran.stdout)["executions"] > 0 and "run(s) exported" in ran.stderr
    # before the import the second copy has nothing to show
    bare = toolkit_command(second, "run-cells", "-f", "pytorch", "--cached-only", "--format", "json")
    assert {r["status"] for r in json.loads(bare.stdout)["results"]} == {"not-run"}
    shown = toolkit_command(
        second,
        "run-cells",
        "-f",
        "pytorch",
        "--import-cache",
        str(archive),
        "--cached-only",
        "--format",
        "json",
    )
    assert shown.returncode in (0, 1), shown.stderr[-2000:]
    report = json.loads(shown.stdout)
    assert report["executions"] == 0 and "run(s) imported" in shown.stderr
    assert {r["status"] for r in report["results"]} == {"ok"} and all(r["cached"] for r in report["results"])
    cells = Path("build/cells")
    for manifest in sorted((first / cells).rglob("*.json")):
        theirs = json.loads(manifest.read_text("utf-8"))
        ours = json.loads((second / manifest.relative_to(first)).read_text("utf-8"))
        assert [c["outputs"] for c in ours["frameworks"]["pytorch"]["cells"]] == [
            c["outputs"] for c in theirs["frameworks"]["pytorch"]["cells"]
        ], manifest
    site = tmp_path / "site"
    built = build_site(second, site, languages="en")
    assert built.returncode == 0, built.stderr[-3000:]
    page = (site / "en/chapter_computational-performance/hybridize/index.html").read_text("utf-8")
    first_output = next(
        str(o.get("text", "")).strip()
        for c in json.loads(
            (second / cells / "en/chapter_computational-performance/hybridize.md.json").read_text()
        )["frameworks"]["pytorch"]["cells"]
        for o in c["outputs"]
        if o.get("output_type") == "stream" and str(o.get("text", "")).strip()
    )
    assert first_output.splitlines()[0] in page
