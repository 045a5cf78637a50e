"""run-cells with real kernels of the three framework environments.

The environments are built by `make setup` / `make test` (`toolkit envs`); a missing one
fails these tests with the reason instead of skipping them: CI must run real cells.
GPU tests carry the `gpu` marker and skip cleanly where no NVIDIA GPU is visible.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import ROOT

from toolkit.execute.environments import Environment, find_environment
from toolkit.execute.runner import ExecutionSettings, RunReport, Source, run_cells
from toolkit.parser import parse_chapter

TABS = ("mxnet", "pytorch", "tensorflow")
FRAMEWORKS = ("mxnet", "pytorch", "tensorflow")


def environment(framework: str) -> Environment:
    env = find_environment(framework)
    if not env.ready:
        pytest.fail(f"{framework} environment not ready: {env.reason} (run `make setup` or `toolkit envs`)")
    return env


def cell(tab: str, code: str, attributes: str = "") -> str:
    return f"```{{.python .input{attributes}}}\n#@tab {tab}\n{code}\n```\n"


def chapter(*cells: str) -> str:
    return "# Test chapter\n:label:`sec_test`\n\nSome prose.\n\n" + "\n".join(cells)


def run(
    tmp_path: Path,
    english: str,
    translations: dict[str, str] | None = None,
    frameworks: tuple[str, ...] = FRAMEWORKS,
    timeout: float = 120,
    trust: bool = False,
    cache: Path | None = None,
    max_output_bytes: int = 1_000_000,
) -> RunReport:
    en_path = tmp_path / "en.md"
    en_path.write_text(english, "utf-8")
    sources = [Source("en", "test.md", en_path, TABS, en_path, TABS)]
    for edition, text in (translations or {}).items():
        path = tmp_path / f"{edition}.md"
        path.write_text(text, "utf-8")
        sources.append(Source(edition, "test.md", path, TABS, en_path, TABS))
    return run_cells(
        sources,
        lambda p: parse_chapter(str(p), p.read_bytes()),
        frameworks,
        cache or tmp_path / "cache",
        tmp_path / "cells",
        ExecutionSettings(timeout, jobs=3, max_output_bytes=max_output_bytes),
        trust_translations=trust,
        environments={fw: environment(fw) for fw in frameworks},
    )


def outputs_text(report: RunReport, edition: str, framework: str) -> list[str]:
    cells = report.manifests[(edition, "test.md")].frameworks[framework].cells
    return [
        "".join(o.get("text", "") or o.get("data", {}).get("text/plain", "") for o in c.outputs).replace(
            "\r\n", "\n"
        )
        for c in cells
    ]


REAL = chapter(
    cell("all", "print('shared', 1 + 1)"),
    cell("mxnet", "from mxnet import np, npx\nnpx.set_np()\nprint('mxnet', np.ones((2, 3)).sum())"),
    cell("pytorch", "import torch\nprint('torch', torch.ones(2, 3).sum().item())"),
    cell("tensorflow", "import tensorflow as tf\nprint('tf', float(tf.reduce_sum(tf.ones((2, 3)))))"),
    cell("all", "!echo shell works"),
)


@pytest.mark.kernels
def test_real_cells_run_in_each_framework_kernel(tmp_path: Path) -> None:
    report = run(tmp_path, REAL)
    assert report.executions == 3
    assert outputs_text(report, "en", "mxnet") == ["shared 2\n", "mxnet 6.0\n", "shell works\n"]
    assert outputs_text(report, "en", "pytorch") == ["shared 2\n", "torch 6.0\n", "shell works\n"]
    tf = outputs_text(report, "en", "tensorflow")
    assert tf[0] == "shared 2\n" and "tf 6.0" in tf[1] and tf[2] == "shell works\n"
    # the stored manifest is what the site reads
    stored = json.loads((tmp_path / "cells/en/test.md.json").read_text("utf-8"))
    assert stored["frameworks"]["pytorch"]["status"] == "ok"
    assert stored["frameworks"]["pytorch"]["device"] in ("cpu", "gpu")


@pytest.mark.kernels
def test_second_run_starts_no_kernel_and_comment_edits_rerun_nothing(tmp_path: Path) -> None:
    english = chapter(cell("pytorch", "x = 41  # the answer, almost\nprint(x + 1)"))
    first = run(tmp_path, english, frameworks=("pytorch",))
    assert first.executions == 1
    again = run(tmp_path, english, frameworks=("pytorch",))
    assert again.executions == 0 and again.status("en", "test.md", "pytorch") == "ok"
    assert again.manifests[("en", "test.md")].frameworks["pytorch"].cached
    commented = english.replace("# the answer, almost", "# une réponse").replace(
        "Some prose.", "Other prose."
    )
    assert run(tmp_path, commented, frameworks=("pytorch",)).executions == 0
    edited = english.replace("x + 1", "x + 2")
    rerun = run(tmp_path, edited, frameworks=("pytorch",))
    assert rerun.executions == 1 and outputs_text(rerun, "en", "pytorch") == ["43\n"]


@pytest.mark.kernels
def test_hung_cell_times_out_and_the_next_cell_runs(tmp_path: Path) -> None:
    english = chapter(
        cell("pytorch", "import time\ntime.sleep(120)", " timeout=3"),
        cell("pytorch", "print('after the hung cell')"),
    )
    report = run(tmp_path, english, frameworks=("pytorch",))
    cells = report.manifests[("en", "test.md")].frameworks["pytorch"].cells
    assert cells[0].status == "timeout"
    assert cells[1].status == "ok" and outputs_text(report, "en", "pytorch")[1] == "after the hung cell\n"
    assert report.status("en", "test.md", "pytorch") == "timed-out"


@pytest.mark.kernels
def test_a_crashing_kernel_is_reported_and_other_frameworks_go_on(tmp_path: Path) -> None:
    english = chapter(
        cell("mxnet", "print('before')"),
        cell("mxnet", "import os\nos._exit(3)"),
        cell("mxnet", "print('never')"),
        cell("pytorch", "print('pytorch is fine')"),
    )
    report = run(tmp_path, english, frameworks=("mxnet", "pytorch"))
    mxnet = report.manifests[("en", "test.md")].frameworks["mxnet"]
    assert [c.status for c in mxnet.cells] == ["ok", "crashed", "not-run"]
    assert mxnet.status == "failed"
    assert report.status("en", "test.md", "pytorch") == "ok"
    crashed = next(c for run in report.runs.values() for c in run.cells if c.status == "crashed")
    assert crashed.line == 11 and "kernel died" in crashed.error


@pytest.mark.kernels
def test_after_a_dead_kernel_every_cell_not_run_is_reported_with_translation_lines(tmp_path: Path) -> None:
    from toolkit.execute.summary import failures, report_json

    english = chapter(
        cell("pytorch", "import os\nos._exit(3)"),
        cell("pytorch", "print('never 1')"),
        cell("pytorch", "print('never 2')"),
    )
    translated = english.replace("Some prose.", "Biraz metin.\n\nDaha fazla metin.")
    report = run(tmp_path, english, {"tr": translated}, frameworks=("pytorch",))
    found = failures(report)
    # English cells start at lines 6, 12, 17; the translation has two more lines of prose
    assert [(f.line, f.cell.status) for f in found] == [(6, "crashed"), (12, "not-run"), (17, "not-run")]
    assert [f.shown_at for f in found] == [
        (f"{tmp_path / 'tr.md'}:8",),
        (f"{tmp_path / 'tr.md'}:14",),
        (f"{tmp_path / 'tr.md'}:19",),
    ]
    assert "before this cell" in found[1].headline()
    assert report_json(report)["failures"][2]["shown_at"] == [f"{tmp_path / 'tr.md'}:19"]
    # --format json names files as the text report does: relative to the project
    relative = report_json(report, tmp_path)["failures"][2]
    assert relative["path"] == "en.md" and relative["shown_at"] == ["tr.md:19"]


@pytest.mark.kernels
def test_a_huge_output_is_stored_cut_with_a_visible_note(tmp_path: Path) -> None:
    english = chapter(
        cell("pytorch", "print('x' * 5_000_000)"),
        cell("pytorch", "import IPython\nIPython.display.display({'text/plain': 'y' * 100_000}, raw=True)"),
    )
    report = run(tmp_path, english, frameworks=("pytorch",), max_output_bytes=50_000)
    texts = outputs_text(report, "en", "pytorch")
    assert (
        texts[0].startswith("x" * 1000) and "[output truncated: 50,000 of 5,000,001 bytes shown" in texts[0]
    )
    assert len(texts[0]) < 60_000
    assert texts[1].endswith(
        "[output truncated: 50,000 of 100,000 bytes shown (max_output_bytes)]\n"
    )  # per cell
    stored = sum(p.stat().st_size for p in (tmp_path / "cache" / "outputs").glob("*.json"))
    assert stored < 200_000  # not 5 MB


@pytest.mark.kernels
def test_a_segfault_and_a_chapter_timeout_marker(tmp_path: Path) -> None:
    english = "<!-- toolkit: timeout 3 -->\n" + chapter(
        cell("pytorch", "import time\ntime.sleep(60)"),
        cell("pytorch", "import ctypes\nctypes.string_at(0)"),
        cell("pytorch", "print('never')"),
    )
    report = run(tmp_path, english, frameworks=("pytorch",))
    cells = report.manifests[("en", "test.md")].frameworks["pytorch"].cells
    assert [c.status for c in cells] == ["timeout", "crashed", "not-run"]


def test_an_environment_that_could_not_be_built_skips_its_cells_with_the_reason(tmp_path: Path) -> None:
    from toolkit.execute.summary import exit_code, report_json

    broken = Environment("tensorflow", None, "", False, "environment build failed: pip exited 1 (log: x)")
    en = tmp_path / "en.md"
    en.write_text(chapter(cell("tensorflow", "print(1)")), "utf-8")
    report = run_cells(
        [Source("en", "test.md", en, TABS, en, TABS)],
        lambda p: parse_chapter(str(p), p.read_bytes()),
        ("tensorflow",),
        tmp_path / "cache",
        tmp_path / "cells",
        ExecutionSettings(60, jobs=1),
        trust_translations=False,
        environments={"tensorflow": broken},
    )
    assert report.executions == 0 and report.status("en", "test.md", "tensorflow") == "skipped"
    cells = report.manifests[("en", "test.md")].frameworks["tensorflow"].cells
    assert cells[0].status == "not-executed" and "pip exited 1" in cells[0].reason
    assert exit_code(report) == 2 and report_json(report)["environments"]["tensorflow"]["ready"] is False


@pytest.mark.kernels
def test_failing_cell_keeps_its_traceback(tmp_path: Path) -> None:
    report = run(tmp_path, chapter(cell("pytorch", "undefined_name + 1")), frameworks=("pytorch",))
    failed = next(c for run in report.runs.values() for c in run.cells)
    assert (
        failed.status == "error"
        and failed.error.startswith("NameError")
        and "undefined_name" in failed.traceback
    )


@pytest.mark.kernels
def test_untrusted_translated_cell_is_not_executed_unless_trusted(tmp_path: Path) -> None:
    english = chapter(cell("pytorch", "print('english code')"), cell("pytorch", "print('same')"))
    translated = english.replace("Some prose.", "Bazı metin.").replace(
        "print('english code')", "print('çevrilmiş kod')"
    )
    report = run(tmp_path, english, {"tr": translated}, frameworks=("pytorch",))
    assert report.executions == 1
    tr_cells = report.manifests[("tr", "test.md")].frameworks["pytorch"].cells
    assert (
        tr_cells[0].sharing == "differs" and tr_cells[0].status == "not-executed" and not tr_cells[0].outputs
    )
    assert tr_cells[1].sharing == "shared" and tr_cells[1].outputs
    assert report.untrusted == (("tr", "test.md", 6, "pytorch"),)  # the fence line
    trusted = run(tmp_path, english, {"tr": translated}, frameworks=("pytorch",), trust=True)
    assert trusted.executions == 1  # only the translation's own program; English is cached
    assert outputs_text(trusted, "tr", "pytorch")[0] == "çevrilmiş kod\n"


@pytest.mark.kernels
def test_kill_minus_9_leaves_a_consistent_cache_and_the_next_run_redoes_only_the_rest(tmp_path: Path) -> None:
    english = chapter(
        cell("pytorch", "print('fast')"),
        cell("mxnet", "import time\ntime.sleep(60)\nprint('slow')"),
    )
    (tmp_path / "en.md").write_text(english, "utf-8")
    script = f"""
import sys
sys.path.insert(0, {str(ROOT / "tests")!r})
from pathlib import Path
from test_run_cells import run
run(Path({str(tmp_path)!r}), Path({str(tmp_path / "en.md")!r}).read_text(), frameworks=("mxnet", "pytorch"))
"""
    process = subprocess.Popen([sys.executable, "-c", script], cwd=ROOT, start_new_session=True)
    outputs = tmp_path / "cache" / "outputs"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and not (outputs.is_dir() and any(outputs.glob("*.json"))):
        time.sleep(0.5)
    assert any(outputs.glob("*.json")), "the fast program never finished"
    os.killpg(process.pid, signal.SIGKILL)  # the runner and its kernels, mid-run
    process.wait()
    stored = list(outputs.glob("*.json"))
    assert len(stored) == 1 and all(
        json.loads(p.read_text("utf-8"))["framework"] == "pytorch" for p in stored
    )
    rerun = run(tmp_path, english.replace("time.sleep(60)", "time.sleep(0)"), frameworks=("mxnet", "pytorch"))
    assert rerun.executions == 1  # mxnet only (its code changed here only to keep the test short)
    assert rerun.status("en", "test.md", "pytorch") == "ok" and "pytorch" not in {
        e.program.framework for e in rerun.planned if e.key in rerun.runs
    }


@pytest.mark.kernels
def test_seed_chapter_runs_once_per_framework_for_all_editions(seed: Path) -> None:
    result = subprocess.run(
        [str(Path(sys.executable).parent / "toolkit"), "run-cells", "--format", "json"],
        cwd=seed,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    data = json.loads(result.stdout)
    # one program per framework and d2l library: today's English library serves en, id and
    # ko-partrita; ko runs its x_origin.md with English's v0.17.1 library, tr and vi with
    # v0.17.5's (their own d2l/ modules are not English's, or are English's same bytes)
    assert data["programs"] == 3 * 3 and data["executions"] <= 9
    assert data["served_pages"] == 6 * 3 and data["without_library"] == []
    statuses = {(r["edition"], r["framework"]): r["status"] for r in data["results"]}
    assert set(statuses) == {
        (e, fw) for e in ("en", "ko", "ko-partrita", "id", "tr", "vi") for fw in FRAMEWORKS
    }
    assert set(statuses.values()) == {"ok"}


def nvidia_gpu_visible() -> bool:
    return (
        shutil.which("nvidia-smi") is not None
        and subprocess.run(["nvidia-smi", "-L"], capture_output=True).returncode == 0
    )


def test_gpu_flag_without_a_gpu_exits_2_naming_each_framework(seed: Path) -> None:
    if nvidia_gpu_visible():
        pytest.skip("a GPU is visible here")
    result = subprocess.run(
        [str(Path(sys.executable).parent / "toolkit"), "run-cells", "--gpu"],
        cwd=seed,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 2
    for framework, sees in (
        ("mxnet", "num_gpus() = 0"),
        ("pytorch", "is_available() = False"),
        ("tensorflow", "0 device(s)"),
    ):
        assert f"{framework}: sees no GPU" in result.stderr and sees in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.gpu
def test_gpu_run_uses_the_gpu(tmp_path: Path) -> None:
    if not nvidia_gpu_visible():
        pytest.skip("no NVIDIA GPU visible")
    english = chapter(cell("pytorch", "import torch\nprint(torch.ones(2, device='cuda').device)"))
    report = run(tmp_path, english, frameworks=("pytorch",))
    assert report.devices["pytorch"].kind == "gpu"
    assert outputs_text(report, "en", "pytorch") == ["cuda:0\n"]


@pytest.mark.kernels
def test_an_interpreter_given_by_environment_variable_is_used(monkeypatch: pytest.MonkeyPatch) -> None:
    """TOOLKIT_PYTHON_<FRAMEWORK> points run-cells at another interpreter (a CUDA build)."""
    built = environment("pytorch")
    monkeypatch.setenv("TOOLKIT_PYTHON_PYTORCH", str(built.python))
    chosen = find_environment("pytorch")
    assert chosen.ready and chosen.python == built.python and chosen.lock_hash != built.lock_hash
    monkeypatch.setenv("TOOLKIT_PYTHON_PYTORCH", "/nowhere/python")
    missing = find_environment("pytorch")
    assert not missing.ready and "/nowhere/python does not exist" in missing.reason


@pytest.mark.kernels
def test_cli_names_an_untrusted_translated_cell_by_its_file_and_line(project: Path) -> None:
    translated = project / "translations" / "tr" / "chapter_computational-performance" / "hybridize.md"
    text = translated.read_text("utf-8")
    line = text[: text.index("print(fancy_func(1, 2, 3, 4))")].count("\n") + 1
    translated.write_text(
        text.replace("print(fancy_func(1, 2, 3, 4))", "print(fancy_func(1, 2, 3, 5))", 1), "utf-8"
    )
    fence = next(n for n in range(line, 0, -1) if text.splitlines()[n - 1].startswith("```"))
    result = subprocess.run(
        [str(Path(sys.executable).parent / "toolkit"), "run-cells", "-f", "pytorch", "translations/tr"],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    assert (
        f"translations/tr/chapter_computational-performance/hybridize.md:{fence}: pytorch cell differs from English: "
        "not executed" in result.stdout
    )


def test_cpu_workers_share_one_frameworks_queue_but_a_gpu_framework_is_held_by_one() -> None:
    from toolkit.execute.runner import Planned, Scheduler

    def planned(key: str) -> Planned:
        return Planned(program=None, key=key, sources=())  # type: ignore[arg-type]  # the scheduler never reads it

    on_cpu = Scheduler({"pytorch": [planned("p1"), planned("p2"), planned("p3")]}, exclusive=set())
    assert on_cpu.useful_workers() == 3
    first, second = on_cpu.take(), on_cpu.take()
    assert first is not None and second is not None
    assert [first.key, second.key] == ["p1", "p2"]  # the queue's order is kept

    on_gpu = Scheduler(
        {"tensorflow": [planned("t1"), planned("t2")], "pytorch": [planned("p1")]},
        exclusive={"tensorflow", "pytorch"},
    )
    assert on_gpu.useful_workers() == 2
    a, b = on_gpu.take(), on_gpu.take()
    assert a is not None and b is not None and (a.key, b.key) == ("t1", "p1")
    assert on_gpu.take() is None  # t2 waits for the worker that holds TensorFlow's GPU
    on_gpu.release("tensorflow")
    c = on_gpu.take()
    assert c is not None and c.key == "t2"


def test_dot_dot_img_is_the_editions_figures_over_englishs_or_englishs_folder_itself(tmp_path: Path) -> None:
    from toolkit.execute.kernel import _merge_images

    edition, english = tmp_path / "ko-img", tmp_path / "en-img"
    (english / "sub").mkdir(parents=True)
    edition.mkdir()
    (english / "catdog.jpg").write_text("en")
    (english / "eye-book.svg").write_text("en")
    (english / "sub" / "a.png").write_text("en")
    (edition / "eye-book.svg").write_text("ko")
    merged = tmp_path / "merged"
    _merge_images(merged, [edition, english])
    assert (merged / "eye-book.svg").read_text() == "ko" and (merged / "catdog.jpg").read_text() == "en"
    assert (merged / "sub" / "a.png").read_text() == "en" and not merged.is_symlink()
    alone = tmp_path / "alone"
    _merge_images(alone, [tmp_path / "no-img", english])  # an edition without img/ of its own
    assert alone.is_symlink() and (alone / "sub" / "a.png").read_text() == "en"
