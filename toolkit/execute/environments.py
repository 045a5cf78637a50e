"""One isolated Python environment per framework, built from pinned requirement files.

Invariants:
- An environment holds a framework and what the book's ``d2l`` library imports, never a
  ``d2l`` package: run-cells puts the library of each program's English revision on the
  kernel's path (``toolkit.execute.library``).
- An environment lives in ``<root>/<framework>-<requirements hash>``; cached outputs are keyed
  by its lock hash (with the library's own hash, per program); ``<root>`` is outside the
  checkout (``$TOOLKIT_ENV_DIR``, default ``~/.cache/d2l-i18n-toolkit/envs``), so a fresh clone
  (CI) reuses what an earlier run built instead of downloading the frameworks again.
- It is ready only when ``ready.json`` exists, written last, after a check that the framework
  and ipykernel import. A failed build leaves ``failed.json`` with the reason, and run-cells
  reports that framework's cells as skipped with it; nothing raises.
- ``TOOLKIT_PYTHON_<FRAMEWORK>`` (e.g. ``TOOLKIT_PYTHON_PYTORCH=/opt/torch/bin/python``) uses
  an existing interpreter instead (a CUDA build on a GPU machine); its lock hash is the
  interpreter's path and reported package versions.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
REQUIREMENTS = HERE / "requirements"
IMPORT_NAMES = {"mxnet": "mxnet", "pytorch": "torch", "tensorflow": "tensorflow", "jax": "jax"}
# What the book's d2l/<framework>.py imports besides the standard library: an environment is
# ready only when all of it imports (with ipykernel, which runs the cells).
LIBRARY_IMPORTS = {
    "mxnet": ("mxnet", "pandas", "requests", "IPython", "matplotlib_inline"),
    "pytorch": (
        "torch",
        "torchvision",
        "PIL",
        "scipy.spatial",
        "pandas",
        "requests",
        "IPython",
        "matplotlib_inline",
    ),
    "tensorflow": ("tensorflow", "tf_keras", "pandas", "requests", "IPython", "matplotlib_inline"),
    "jax": (
        "jax",
        "flax",
        "optax",
        "tensorflow",
        "tensorflow_datasets",
        "pandas",
        "requests",
        "IPython",
        "matplotlib_inline",
    ),
}
# Set in every kernel of the framework: d2l's TensorFlow code is Keras 2 (tf-keras under TF
# 2.21). The JAX environment's TensorFlow 2.15 (for tensorflow_datasets) still has Keras 2.
FRAMEWORK_ENV = {"tensorflow": {"TF_USE_LEGACY_KERAS": "1"}}


@dataclass(frozen=True)
class Environment:
    framework: str
    python: Path | None
    lock_hash: str
    ready: bool
    reason: str = ""  # why it is not ready
    extra_path: tuple[Path, ...] = ()  # prepended to the kernel's PYTHONPATH

    def kernel_env(self, threads: int | None = None) -> dict[str, str]:
        """The kernel's environment; ``threads`` caps the framework's CPU thread pools."""
        env = dict(os.environ)
        if threads is not None:
            # Kernels running side by side each get their share of the cores: three
            # frameworks that each start one thread per core fight over them and run slower
            # together than one after another.
            for name in (
                "OMP_NUM_THREADS",
                "MKL_NUM_THREADS",
                "OPENBLAS_NUM_THREADS",
                "MXNET_CPU_WORKER_NTHREADS",
            ):
                env[name] = str(threads)
            env["TF_NUM_INTRAOP_THREADS"] = str(threads)
            env["TF_NUM_INTEROP_THREADS"] = str(threads)
        env.update(FRAMEWORK_ENV.get(self.framework, {}))
        if self.extra_path:
            env["PYTHONPATH"] = os.pathsep.join(
                [*map(str, self.extra_path), env.get("PYTHONPATH", "")]
            ).rstrip(os.pathsep)
        env.setdefault("MPLBACKEND", "module://matplotlib_inline.backend_inline")
        env["PYTHONHASHSEED"] = "0"
        env["TF_CPP_MIN_LOG_LEVEL"] = "2"  # TensorFlow's C++ start-up chatter is not cell output
        return env


def environment_root() -> Path:
    configured = os.environ.get("TOOLKIT_ENV_DIR")
    return Path(configured) if configured else Path.home() / ".cache" / "d2l-i18n-toolkit" / "envs"


NO_DEPS = REQUIREMENTS / "no-deps.txt"  # installed with --no-deps into every environment


def requirements_hash(framework: str) -> str:
    """Names the environment's directory: what is installed in it."""
    digest = hashlib.sha256((REQUIREMENTS / f"{framework}.txt").read_bytes())
    digest.update(NO_DEPS.read_bytes())
    return digest.hexdigest()[:16]


def lock_hash(framework: str) -> str:
    """Keys cached outputs: what is installed, and the variables every kernel gets."""
    digest = hashlib.sha256(requirements_hash(framework).encode())
    digest.update(json.dumps(FRAMEWORK_ENV.get(framework, {}), sort_keys=True).encode())
    return digest.hexdigest()[:16]


def _override(framework: str) -> Environment | None:
    python = os.environ.get(f"TOOLKIT_PYTHON_{framework.upper()}")
    if not python:
        return None
    path = Path(python)
    if not path.exists():
        return Environment(
            framework, None, "", False, f"TOOLKIT_PYTHON_{framework.upper()}={python} does not exist"
        )
    probe = _import_check(path, framework)
    if probe is not None:
        return Environment(framework, path, "", False, probe)
    versions = subprocess.run(
        [
            str(path),
            "-c",
            f"import {IMPORT_NAMES[framework]} as m, sys; print(m.__version__, sys.version.split()[0])",
        ],
        capture_output=True,
        text=True,
    ).stdout.strip()
    digest = hashlib.sha256(f"{path}\0{versions}".encode())
    digest.update(json.dumps(FRAMEWORK_ENV.get(framework, {}), sort_keys=True).encode())
    return Environment(framework, path, digest.hexdigest()[:16], True)


def _import_check(python: Path, framework: str) -> str | None:
    """None when the framework, ipykernel and what the d2l library imports import; else why not."""
    code = f"import {', '.join(LIBRARY_IMPORTS[framework])}, ipykernel, d2lbook.tab"
    env = dict(os.environ)
    env.update(FRAMEWORK_ENV.get(framework, {}))
    try:
        result = subprocess.run(
            [str(python), "-c", code], capture_output=True, text=True, env=env, timeout=300
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        return f"cannot run {python}: {error}"
    if result.returncode != 0:
        last = (result.stderr.strip().splitlines() or ["(no output)"])[-1]
        return f"`{code}` failed: {last}"
    return None


def find_environment(framework: str) -> Environment:
    """The environment run-cells uses, as it is now (never builds anything)."""
    override = _override(framework)
    if override is not None:
        return override
    digest = lock_hash(framework)
    directory = environment_root() / f"{framework}-{requirements_hash(framework)}"
    python = directory / "bin" / "python"
    if (directory / "ready.json").is_file() and python.exists():
        return Environment(framework, python, digest, True)
    failed = directory / "failed.json"
    if failed.is_file():
        reason = json.loads(failed.read_text("utf-8")).get("reason", "the build failed")
        return Environment(framework, None, digest, False, f"environment build failed: {reason}")
    return Environment(
        framework, None, digest, False, "environment not built: run `toolkit envs` (part of `make setup`)"
    )


def build_environment(framework: str, log: Path | None = None, rebuild: bool = False) -> Environment:
    """Create the environment from its requirement file (idempotent: a ready one is kept)."""
    current = find_environment(framework)
    if current.ready and not rebuild:
        return current
    digest = lock_hash(framework)
    directory = environment_root() / f"{framework}-{requirements_hash(framework)}"
    if directory.exists():
        shutil.rmtree(directory)
    directory.mkdir(parents=True)
    log = log or directory / "build.log"
    started = time.time()
    steps = [
        [sys.executable, "-m", "venv", str(directory)],
        [str(directory / "bin" / "python"), "-m", "pip", "install", "--quiet", "--upgrade", "pip"],
        [
            str(directory / "bin" / "python"),
            "-m",
            "pip",
            "install",
            "--quiet",
            "-r",
            str(REQUIREMENTS / f"{framework}.txt"),
        ],
        [
            str(directory / "bin" / "python"),
            "-m",
            "pip",
            "install",
            "--quiet",
            "--no-deps",
            "-r",
            str(NO_DEPS),
        ],
    ]
    with log.open("a", encoding="utf-8") as out:
        for step in steps:
            out.write(f"$ {' '.join(step)}\n")
            out.flush()
            result = subprocess.run(step, stdout=out, stderr=subprocess.STDOUT)
            if result.returncode != 0:
                reason = f"`{' '.join(step[-3:])}` exited {result.returncode} (log: {log})"
                (directory / "failed.json").write_text(json.dumps({"reason": reason}), "utf-8")
                return Environment(framework, None, digest, False, f"environment build failed: {reason}")
    problem = _import_check(directory / "bin" / "python", framework)
    if problem is not None:
        (directory / "failed.json").write_text(json.dumps({"reason": problem}), "utf-8")
        return Environment(framework, None, digest, False, f"environment build failed: {problem}")
    (directory / "ready.json").write_text(
        json.dumps({"framework": framework, "lock_hash": digest, "seconds": round(time.time() - started, 1)}),
        "utf-8",
    )
    return find_environment(framework)
