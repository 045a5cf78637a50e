"""run-cells on the book itself: the book's own d2l library of each revision, four frameworks,
the dataset cache, downloads turned off, shards and a local Ray cluster.

These need the whole book (`toolkit sync`, part of `make setup` / `make test`) and the four
framework environments (`toolkit envs`); a missing one fails, it is never skipped.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import shutil
import socket
import struct
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT, make_seed_project

from toolkit.book.history import load_history
from toolkit.config import load_lock, load_project
from toolkit.execute.environments import Environment, find_environment
from toolkit.execute.library import LibraryIndex, read_library, save_differences
from toolkit.execute.programs import chapter_program, executable_cells
from toolkit.execute.runner import ExecutionSettings, RunReport, Source, in_shard, run_cells
from toolkit.parser import parse_chapter

BIN = Path(sys.executable).parent
CONFIG = load_project(ROOT)
TODAY = load_lock(CONFIG.source_dir / "LOCK.toml").today
ENGLISH = CONFIG.source_dir / TODAY.id
FOUR = ("mxnet", "pytorch", "tensorflow", "jax")
V017_TABS = ("mxnet", "pytorch", "tensorflow")


def parse(path: Path):  # type: ignore[no-untyped-def]
    return parse_chapter(str(path), path.read_bytes())


def environment(framework: str) -> Environment:
    env = find_environment(framework)
    if not env.ready:
        pytest.fail(f"{framework} environment not ready: {env.reason} (run `make setup` or `toolkit envs`)")
    return env


def libraries() -> LibraryIndex:
    """As run-cells chooses them: only files English's history proves are imported."""
    history = load_history(CONFIG.english_dir, CONFIG.source_dir)
    return LibraryIndex(
        ROOT, CONFIG.source_dir, CONFIG.translations_dir, TODAY.id, history, CONFIG.english_dir
    )


def book_file(relative: str) -> Path:
    path = ROOT / relative
    if not path.is_file():
        pytest.fail(f"{relative} missing: run `toolkit sync` (part of `make setup`)")
    return path


def run(
    tmp_path: Path,
    sources: list[Source],
    frameworks: tuple[str, ...],
    data_dir: Path | None = None,
    downloads: bool = False,
    ray_address: str = "",
) -> RunReport:
    return run_cells(
        sources,
        parse,
        frameworks,
        tmp_path / "cache",
        tmp_path / "cells",
        ExecutionSettings(
            300, jobs=2, data_dir=data_dir or tmp_path / "data", downloads=downloads, ray_address=ray_address
        ),
        trust_translations=False,
        environments={fw: environment(fw) for fw in frameworks},
        libraries=libraries(),
    )


def english_source(chapter: str) -> Source:
    path = book_file(f"source_en/{TODAY.id}/{chapter}")
    return Source("en", chapter, path, TODAY.tabs, path, TODAY.tabs)


def texts(report: RunReport, edition: str, chapter: str, framework: str) -> str:
    cells = report.manifests[(edition, chapter)].frameworks[framework].cells
    return "".join(
        "".join(o.get("text", "") or o.get("data", {}).get("text/plain", "") for o in c.outputs)
        for c in cells
    )


@pytest.mark.kernels
def test_todays_english_trains_with_its_own_library_in_all_four_frameworks(tmp_path: Path) -> None:
    """linear-regression-scratch defines a model on d2l.Module and trains it with
    d2l.Trainer.fit: the real library of 1.0.3 in MXNet, PyTorch, TensorFlow (legacy Keras)
    and JAX (flax, optax)."""
    chapter = "chapter_linear-regression/linear-regression-scratch.md"
    report = run(tmp_path, [english_source(chapter)], FOUR)
    for framework in FOUR:
        info = report.manifests[("en", chapter)].frameworks[framework]
        failed = [(c.line, c.status) for c in info.cells if c.status != "ok"]
        assert info.status == "ok", (framework, failed, report.planned)
        # the last cell prints the learned parameters' errors
        assert "error in estimating w" in texts(report, "en", chapter, framework), framework
    assert report.no_library == ()
    entry = report.planned[0]
    assert entry.program.library is not None
    assert entry.program.library.origin == f"source_en/{TODAY.id}/d2l"


@pytest.mark.kernels
def test_a_v017_edition_runs_its_basis_with_englishs_library_of_its_release(tmp_path: Path) -> None:
    """ko shows the code of its x_origin.md (v0.17.1), so that code runs: with ko's d2l/
    module where it is English's (mxnet.py), else with English's v0.17.1 library (ko's
    torch.py was regenerated from translated cells: no English version has its bytes)."""
    translation = book_file("translations/ko/chapter_linear-networks/linear-regression-scratch.md")
    origin = book_file("translations/ko/chapter_linear-networks/linear-regression-scratch_origin.md")
    chapter = "chapter_linear-networks/linear-regression-scratch.md"
    source = Source("ko", chapter, translation, V017_TABS, origin, V017_TABS)
    report = run(tmp_path, [source], ("mxnet", "pytorch"))
    for framework in ("mxnet", "pytorch"):
        assert report.status("ko", chapter, framework) == "ok", framework
        assert "epoch 3" in texts(report, "ko", chapter, framework)
    origins = {
        entry.program.framework: entry.program.library.origin
        for entry in report.planned
        if entry.program.library
    }
    assert origins == {"mxnet": "translations/ko/d2l", "pytorch": "english/v0.17.1/d2l"}


def test_library_choice_per_basis() -> None:
    index = libraries()
    today = index.library_for("en", ENGLISH / "chapter_preliminaries/ndarray.md", "jax")
    assert today is not None and today.origin == f"source_en/{TODAY.id}/d2l"
    origin = ROOT / "translations/tr/chapter_preliminaries/ndarray_origin.md"
    tr = index.library_for("tr", origin, "pytorch")
    # tr's own torch.py is not English's: English's library of tr's release serves
    assert tr is not None and tr.origin == "english/v0.17.5/d2l"
    assert "translations/tr/d2l/torch.py" in index.refused
    # v0.17 had no JAX: its library has no jax module, today's English stands in
    assert index.library_for("tr", origin, "jax") is today


@pytest.mark.kernels
def test_the_dataset_cache_is_d2ls_data_folder(tmp_path: Path) -> None:
    """A file the test puts in the cache is what `d2l.download` finds in `../data` (its
    sha1 matches), and Fashion-MNIST files the test makes are what `d2l.FashionMNIST`
    (torchvision) reads: no download, the real loading code."""
    data = tmp_path / "datasets"
    (data).mkdir()
    payload = b"a,b\n1,2\n3,4\n"
    (data / "tiny.csv").write_bytes(payload)
    sha1 = hashlib.sha1(payload).hexdigest()
    raw = data / "FashionMNIST" / "raw"
    raw.mkdir(parents=True)
    for split, count in (("train", 12), ("t10k", 5)):
        images = struct.pack(">IIII", 2051, count, 28, 28) + bytes(count * 28 * 28)
        labels = struct.pack(">II", 2049, count) + bytes(i % 10 for i in range(count))
        (raw / f"{split}-images-idx3-ubyte").write_bytes(images)
        (raw / f"{split}-labels-idx1-ubyte").write_bytes(labels)
        # torchvision also checks for the archives it would have downloaded
        (raw / f"{split}-images-idx3-ubyte.gz").write_bytes(gzip.compress(images))
        (raw / f"{split}-labels-idx1-ubyte.gz").write_bytes(gzip.compress(labels))
    english = (
        "# Data\n\n```{.python .input}\n%%tab pytorch\nfrom d2l import torch as d2l\n"
        f"d2l.DATA_HUB['tiny'] = (d2l.DATA_URL + 'tiny.csv', '{sha1}')\n"
        "print(open(d2l.download('tiny')).read().count(','))\n"
        "data = d2l.FashionMNIST(resize=(28, 28))\nprint(len(data.train), len(data.val))\n```\n"
    )
    path = tmp_path / "data.md"
    path.write_text(english, "utf-8")
    report = run(tmp_path, [Source("en", "data.md", path, TODAY.tabs, path, TODAY.tabs)], ("pytorch",), data)
    assert report.status("en", "data.md", "pytorch") == "ok", report.runs
    assert texts(report, "en", "data.md", "pytorch") == "3\n12 5\n"


@pytest.mark.kernels
def test_a_missing_dataset_is_needs_data_naming_the_file_and_nothing_leaves_the_machine(
    tmp_path: Path,
) -> None:
    """With downloads off every request goes to a closed local port; the cell is 'needs data'
    with the file and d2l's data hub, the cells after it are not separate failures."""
    chapter = "chapter_recurrent-neural-networks/text-sequence.md"
    report = run(tmp_path, [english_source(chapter)], ("pytorch",))
    assert report.status("en", chapter, "pytorch") == "needs-data"
    from toolkit.execute.summary import failures

    listed = failures(report, ROOT)
    assert len(listed) == 1 and listed[0].cell.status == "needs-data"
    assert "needs timemachine.txt from d2l's data hub" in listed[0].cell.error
    assert "downloads are off" in listed[0].cell.error


@pytest.mark.book
def test_save_cells_of_todays_english_match_its_library_and_v017_differences_are_reported() -> None:
    """The library is built from the book's #@save cells: for today's English and its 1.0.3
    library there is no difference in the frameworks the chapters run; ko's v0.17 TensorFlow
    library lacks the BERT data functions its chapter saves."""
    library = read_library(ENGLISH / "d2l", "en")
    assert library is not None
    differences = []
    for path in sorted(ENGLISH.glob("chapter_*/*.md")):
        chapter = parse(path)
        for framework in FOUR:
            if chapter_program(chapter, path.name, TODAY.tabs, framework, library) is None:
                continue
            saved = [
                (c.span.start, c.code) for c in executable_cells(chapter, TODAY.tabs, framework) if c.save
            ]
            differences += [(path.name, framework, d) for d in save_differences(saved, library, framework)]
    assert differences == []
    ko = read_library(ROOT / "translations/ko/d2l", "ko")
    assert ko is not None
    bert = parse(
        book_file("translations/ko/chapter_natural-language-processing-pretraining/bert-dataset_origin.md")
    )
    saved = [(c.span.start, c.code) for c in executable_cells(bert, V017_TABS, "tensorflow") if c.save]
    found = {d.name: d.detail for d in save_differences(saved, ko, "tensorflow")}
    assert found.get("_read_wiki") == "not in d2l/tensorflow.py"


def test_save_differences_resolve_tab_selected_and_add_to_class() -> None:
    library_text = (
        "class Trainer:\n    def fit(self):\n        raise NotImplementedError\n"
        "    def fit(self):\n        return 1\n"
        "def relu(x):\n    return max(x, 0)\n"
    )
    from toolkit.execute.library import Library

    library = Library("test", (("__init__.py", ""), ("torch.py", library_text)), "x")
    same = (
        "@d2l.add_to_class(d2l.Trainer)  #@save\ndef fit(self):\n    '''Doc.'''\n"
        "    if tab.selected('pytorch') or tab.selected('mxnet'):\n        return 1\n"
        "    if tab.selected('tensorflow'):\n        return 2\n"
    )
    assert save_differences([(3, same)], library, "pytorch") == []
    changed = "def relu(x):  #@save\n    return max(x, 1)\n\ndef gelu(x):  #@save\n    return x\n"
    found = save_differences([(9, changed)], library, "pytorch")
    assert [(d.line, d.name, d.detail) for d in found] == [
        (9, "relu", "differs from d2l/torch.py:6"),
        (9, "gelu", "not in d2l/torch.py"),
    ]


def test_shards_split_chapters_and_keep_every_edition_of_a_chapter_together() -> None:
    chapters = [f"chapter_{i}/x.md" for i in range(200)]
    shards = [[c for c in chapters if in_shard(c, (i, 3))] for i in (1, 2, 3)]
    assert sorted(c for shard in shards for c in shard) == sorted(chapters)
    assert all(30 < len(s) < 110 for s in shards)


def test_shard_and_ray_arguments_are_checked(tmp_path: Path) -> None:
    # a project of its own: with every output cached, nothing would be handed to Ray
    seed = make_seed_project(tmp_path / "project")
    for argument, expected in ((["--shard", "3/2"], "expected I/N"), (["--shard", "x"], "expected I/N")):
        result = subprocess.run(
            [str(BIN / "toolkit"), "run-cells", *argument], cwd=seed, capture_output=True, text=True
        )
        assert result.returncode == 2 and expected in result.stderr, result.stderr
        assert "Traceback" not in result.stderr
    result = subprocess.run(
        [str(BIN / "toolkit"), "run-cells", "-f", "pytorch", "--ray", "127.0.0.1:9"],
        cwd=seed,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 2 and "cannot connect to the Ray cluster at 127.0.0.1:9" in result.stderr
    assert "Traceback" not in result.stderr


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.mark.kernels
def test_a_local_ray_cluster_runs_real_chapters(tmp_path: Path) -> None:
    """`ray start --head` on this machine (stopped at the end); run-cells --ray hands it the
    (chapter, framework) programs of the seed chapter in every edition and writes what the
    local pool would."""
    seed = make_seed_project(tmp_path / "project")  # its own cache: everything runs
    ray = shutil.which("ray", path=str(BIN))
    assert ray is not None, "ray is a dependency of the toolkit"
    port = free_port()
    temp = Path("/tmp") / f"ray-{os.getpid()}"  # Ray's socket paths must stay short
    env = {**os.environ, "RAY_USAGE_STATS_ENABLED": "0"}
    started = subprocess.run(
        [
            ray,
            "start",
            "--head",
            f"--port={port}",
            "--num-cpus=2",
            "--num-gpus=0",
            "--include-dashboard=false",
            f"--temp-dir={temp}",
            "--disable-usage-stats",
        ],
        capture_output=True,
        text=True,
        timeout=180,
        env=env,
    )
    try:
        assert started.returncode == 0, started.stdout[-2000:] + started.stderr[-2000:]
        result = subprocess.run(
            [
                str(BIN / "toolkit"),
                "run-cells",
                "-f",
                "pytorch",
                "-f",
                "mxnet",
                "--ray",
                f"127.0.0.1:{port}",
                "--format",
                "json",
            ],
            cwd=seed,
            capture_output=True,
            text=True,
            timeout=900,
            env=env,
        )
        assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-3000:]
        data = json.loads(result.stdout)
        statuses = {(r["edition"], r["framework"]): r["status"] for r in data["results"]}
        assert len(statuses) == 6 * 2 and set(statuses.values()) == {"ok"}
        # three English libraries (today's, v0.17.1 for ko, v0.17.5 for tr and vi), two frameworks
        assert data["executions"] == data["programs"] == 3 * 2
        nodes = {
            json.loads(p.read_text("utf-8")).get("extra", {}).get("node")
            for p in (seed / ".toolkit-cache" / "outputs").glob("*.json")
        }
        assert nodes == {socket.gethostname()}, "every program ran as a Ray task"
        manifest = json.loads(
            (seed / "build/cells/tr/chapter_computational-performance/hybridize.md.json").read_text()
        )
        outputs = [c for c in manifest["frameworks"]["pytorch"]["cells"] if c["outputs"]]
        assert outputs, "the outputs of the Ray tasks reach the editions' manifests"
    finally:
        subprocess.run([ray, "stop", "--force"], capture_output=True, timeout=120, env=env)
        shutil.rmtree(temp, ignore_errors=True)


@pytest.mark.kernels
def test_cells_read_the_books_own_figures_as_dot_dot_img(tmp_path: Path) -> None:
    """bounding-box.md opens ../img/catdog.jpg, as a notebook beside the book's chapters
    would: the kernel sees the book's img/ there."""
    chapter = "chapter_computer-vision/bounding-box.md"
    report = run(tmp_path, [english_source(chapter)], ("pytorch",))
    assert report.status("en", chapter, "pytorch") == "ok", report.runs


@pytest.mark.kernels
def test_a_v017_editions_cells_see_its_own_figures_over_englishs(tmp_path: Path) -> None:
    """ko's bounding-box runs its x_origin.md, from ko's folder, whose img/ holds only the
    figures ko redrew (no catdog.jpg): ../img is ko's img/ laid over today's English's."""
    chapter = "chapter_computer-vision/bounding-box.md"
    assert not (ROOT / "translations" / "ko" / "img" / "catdog.jpg").exists()
    assert (ROOT / "translations" / "ko" / "img" / "eye-book.svg").is_file()
    source = Source(
        "ko",
        chapter,
        book_file(f"translations/ko/{chapter}"),
        V017_TABS,
        book_file(f"translations/ko/{chapter.replace('.md', '_origin.md')}"),
        V017_TABS,
    )
    report = run(tmp_path, [source], ("pytorch",))
    assert report.status("ko", chapter, "pytorch") == "ok", report.runs
    (entry,) = report.planned
    assert [Path(folder) for folder in entry.program.image_dirs] == [
        (ROOT / "translations" / "ko" / "img").resolve(),
        (ROOT / "source_en" / TODAY.id / "img").resolve(),
    ]


def _d2lbooks_clean_if_branches() -> object:
    """d2lbook's own ``_clean_if_branches`` (1.0.3, in the framework environments), taken out
    of its module by its syntax tree: importing ``d2lbook.notebook`` needs notedown and
    nbconvert, which the environments do not carry."""
    import ast

    python = environment("pytorch").python
    assert python is not None
    found = subprocess.run(
        [str(python), "-c", "import d2lbook, os; print(os.path.dirname(d2lbook.__file__))"],
        capture_output=True,
        text=True,
        check=True,
    )
    source = (Path(found.stdout.strip()) / "notebook.py").read_text("utf-8")
    tree = ast.parse(source)
    wanted: list[ast.stmt] = [
        n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name.startswith("_clean_if_branches")
    ]
    namespace: dict[str, object] = {}
    exec(compile(ast.Module(body=wanted, type_ignores=[]), "d2lbook/notebook.py", "exec"), namespace)
    return namespace["_clean_if_branches"]


def test_tab_branches_are_resolved_as_d2lbooks_own_build_does() -> None:
    """Every cell of today's English with `if tab.selected(...)`, in every framework: the
    program runs what d2lbook's `_clean_if_branches` makes of it (what d2l.ai runs)."""
    from toolkit.code import select_branches

    clean = _d2lbooks_clean_if_branches()
    compared = 0
    for path in sorted(ENGLISH.glob("chapter_*/*.md")):
        for cell in parse(path).blocks:
            code = getattr(cell, "code", "")
            if "tab.selected" not in code or not getattr(cell, "executable", False):
                continue
            for framework in FOUR:
                expected = "\n".join(clean(code.split("\n"), framework))  # type: ignore[operator]
                assert select_branches(code, framework) == expected, (path, cell.span.start, framework)
                compared += 1
    assert compared > 100  # 34 chapters use it
    # oo-design.md: the TensorFlow branch nested under __init__'s branch lands in __init__
    chapter = parse(ENGLISH / "chapter_linear-regression/oo-design.md")
    program = chapter_program(chapter, "chapter_linear-regression/oo-design.md", TODAY.tabs, "tensorflow")
    assert program is not None
    module = next(cell.code for cell in program.cells if "class Module(" in cell.code)
    assert "        self.board = ProgressBoard()\n        self.training = None\n" in module
    assert "tab.selected" not in module and "plot_train_per_epoch: int" not in module


@pytest.mark.kernels
def test_a_chapters_manifest_is_written_when_its_programs_finish_not_at_the_end(tmp_path: Path) -> None:
    """A book run takes hours and may be stopped: each chapter's outputs reach build/cells (and
    the site) as soon as its programs are done, while later chapters still run."""
    first, second = "chapter_preliminaries/lookup-api.md", "chapter_builders-guide/lazy-init.md"
    seen_when_second_started: list[bool] = []

    def on_event(framework: str, kind: str, payload: object) -> None:
        program = getattr(payload, "program", None)
        if kind == "program" and program is not None and program.chapter == second:
            seen_when_second_started.append((tmp_path / "cells" / "en" / f"{first}.json").is_file())

    run_cells(
        [english_source(first), english_source(second)],
        parse,
        ("pytorch",),
        tmp_path / "cache",
        tmp_path / "cells",
        ExecutionSettings(300, jobs=1, data_dir=tmp_path / "data", downloads=False),
        trust_translations=False,
        environments={"pytorch": environment("pytorch")},
        on_event=on_event,
        libraries=libraries(),
    )
    assert seen_when_second_started == [True]
    assert (tmp_path / "cells" / "en" / f"{second}.json").is_file()
