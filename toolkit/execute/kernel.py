"""Running one program in one Jupyter kernel (the only module that talks to kernels).

Invariants:
- Every program gets a fresh kernel of its framework's environment, started in a fresh
  temporary working directory that is removed afterwards.
- A cell that runs past its timeout is interrupted (the kernel lives on and the next cell
  runs); a kernel that dies (segfault, ``os._exit``, out of memory) ends the program: the cell
  is ``crashed`` and the rest ``not-run``. Neither raises.
- The kernel's working directory is ``<scratch>/work`` beside ``<scratch>/data``, a link to the
  persistent dataset cache, so d2l's ``../data`` is that cache and what one run downloads the
  next reuses, and beside ``<scratch>/img``, the book's figures (``../img/cat1.jpg``: links to
  the edition's own figures laid over today's English ones); the program's ``d2l`` library is
  written to ``<scratch>/lib`` and put first on the kernel's path. With downloads off, every HTTP(S) request goes to a closed local port
  (``127.0.0.1:9``) and fails at once: no traffic leaves the machine.
- A cell that fails for want of a download is ``needs-data`` with the file and where d2l
  fetches it from, not an ordinary error.
- Outputs are nbformat output dicts (stream, execute_result, display_data with images, error
  with traceback), kept as they are for the site, up to ``max_output_bytes`` per cell: past
  that, text is cut with a visible note saying how much was left out, and larger images are
  replaced by such a note (a cell that prints 200 MB must not become a 200 MB page).
"""

from __future__ import annotations

import json
import os
import re
import tempfile
import time
from collections.abc import Callable
from contextlib import suppress
from pathlib import Path
from typing import Any

from toolkit.execute.environments import Environment
from toolkit.execute.programs import Program
from toolkit.execute.results import CellResult, CellStatus, ProgramRun

ANSI = re.compile(r"\x1b\[[0-9;]*m")
TIMEOUT_ERROR = "CellTimeoutError"


def _kernel_spec_dir(env: Environment, root: Path) -> str:
    name = f"toolkit-{env.framework}"
    directory = root / "kernels" / name
    directory.mkdir(parents=True)
    spec = {
        "argv": [str(env.python), "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": f"d2l {env.framework}",
        "language": "python",
    }
    (directory / "kernel.json").write_text(json.dumps(spec), "utf-8")
    return name


def _error_of(outputs: list[dict[str, Any]]) -> tuple[str, str]:
    for output in outputs:
        if output.get("output_type") == "error":
            traceback = ANSI.sub("", "\n".join(output.get("traceback", [])))
            return f"{output.get('ename', 'Error')}: {output.get('evalue', '')}", traceback
    return "", ""


DEFAULT_MAX_OUTPUT_BYTES = 1_000_000
# With downloads off, a kernel's HTTP clients (requests, urllib, tfds) talk to this closed port.
CLOSED_PROXY = "http://127.0.0.1:9"
OFFLINE_ENV = {
    name: CLOSED_PROXY for name in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy", "ALL_PROXY")
} | {"NO_PROXY": "", "no_proxy": "", "HF_HUB_OFFLINE": "1"}
NETWORK_ERRORS = {
    "ConnectionError",
    "ProxyError",
    "URLError",
    "MaxRetryError",
    "NewConnectionError",
    "ConnectionRefusedError",
    "gaierror",
    "SSLError",
    "RemoteDisconnected",
    "DownloadError",
}
TRIED_MIRROR = re.compile(r"Error downloading (?P<file>\S+?):\s*Tried (?P<url>https?://\S+?),")
DOWNLOADING = re.compile(
    r"Downloading (?:(?P<file>\S+) from )?(?P<url>https?://\S+?)(?:\.\.\.)?$", re.MULTILINE
)


def needs_data(outputs: list[dict[str, Any]], error: str, traceback: str, downloads: bool) -> str | None:
    """Why the cell failed, when it failed for want of a download; else None."""
    ename = error.split(":", 1)[0]
    text = "".join(_text_of(o.get("text", "")) for o in outputs if o.get("output_type") == "stream")
    network = (
        ename in NETWORK_ERRORS
        or "Error downloading" in error
        or "urlopen error" in text + traceback
        or "Max retries exceeded" in traceback
    )
    if not network:
        return None
    where = "no network" if downloads else "downloads are off (run-cells --downloads to allow them)"
    found = DOWNLOADING.search(text)
    mirror = TRIED_MIRROR.search(error)  # torchvision: "Error downloading NAME:\nTried URL, got"
    if mirror is not None:
        url = mirror.group("url").rstrip("/") + "/" + mirror.group("file")
    elif found is not None:
        url = found.group("url")
    else:
        return f"needs a download; {where} ({error.splitlines()[0]})"
    name = url.rstrip("/").rsplit("/", 1)[-1]
    hub = "d2l's data hub" if "d2l-data" in url else url.split("/")[2]
    return f"needs {name} from {hub} ({url}); {where}"


def _truncation_note(shown: int, total: int) -> str:
    return f"\n[output truncated: {shown:,} of {total:,} bytes shown (max_output_bytes)]\n"


def _text_of(value: Any) -> str:
    return "".join(value) if isinstance(value, list) else str(value)


def cap_outputs(outputs: list[dict[str, Any]], max_bytes: int) -> list[dict[str, Any]]:
    """The cell's outputs within ``max_bytes`` of text and image data in all, in order; what
    does not fit is cut (text) or dropped (images), with a note in the outputs themselves."""
    budget = max_bytes
    capped: list[dict[str, Any]] = []
    for output in outputs:
        kind = output.get("output_type")
        if kind == "stream":
            text = _text_of(output.get("text", ""))
            size = len(text.encode("utf-8"))
            if size > budget:
                kept = text.encode("utf-8")[: max(budget, 0)].decode("utf-8", "ignore")
                capped.append({**output, "text": kept + _truncation_note(len(kept.encode("utf-8")), size)})
                budget = 0
                continue
            budget -= size
        elif kind in ("execute_result", "display_data"):
            data = dict(output.get("data", {}))
            for mime in list(data):
                value = _text_of(data[mime])
                size = len(value.encode("utf-8"))
                if size <= budget:
                    budget -= size
                elif mime.startswith("text/"):
                    kept = value.encode("utf-8")[: max(budget, 0)].decode("utf-8", "ignore")
                    data[mime] = kept + _truncation_note(len(kept.encode("utf-8")), size)
                    budget = 0
                else:
                    data[mime] = None
            if any(v is None for v in data.values()):
                dropped = [m for m, v in data.items() if v is None]
                data = {m: v for m, v in data.items() if v is not None}
                data.setdefault("text/plain", "")
                data["text/plain"] = _text_of(data["text/plain"]) + (
                    f"\n[{', '.join(dropped)} output left out: larger than max_output_bytes]"
                )
            output = {**output, "data": data}
        capped.append(output)
    return capped


def _merge_images(target: Path, folders: list[Path]) -> None:
    """``target`` as one folder of links to the files of ``folders``, the first folder's file
    winning where two have the same name (the edition's redrawn figure over English's). With
    one existing folder (English's alone), ``target`` is a link to it."""
    folders = [folder for folder in folders if folder.is_dir()]
    if len(folders) == 1:
        target.symlink_to(folders[0].resolve(), target_is_directory=True)
        return
    for folder in reversed(folders):
        for file in folder.rglob("*"):
            if file.is_file():
                link = target / file.relative_to(folder)
                link.parent.mkdir(parents=True, exist_ok=True)
                link.unlink(missing_ok=True)
                link.symlink_to(file.resolve())


def _scratch(
    root: Path,
    program: Program,
    env: Environment,
    threads: int | None,
    data_dir: Path | None,
    downloads: bool,
) -> dict[str, str]:
    """Lay out the kernel's scratch folder (module docstring: work/, data/, img/, lib/) and
    return the kernel's environment variables."""
    (root / "work").mkdir()
    if data_dir is not None:
        data_dir.mkdir(parents=True, exist_ok=True)
        (root / "data").symlink_to(data_dir.resolve(), target_is_directory=True)
    if program.image_dirs:  # d2l's cells read ../img/catdog.jpg
        _merge_images(root / "img", [Path(folder) for folder in program.image_dirs])
    kernel_env = env.kernel_env(threads)
    if program.library is not None:
        library_path = program.library.write(root / "lib")
        kernel_env["PYTHONPATH"] = os.pathsep.join(
            [str(library_path), kernel_env.get("PYTHONPATH", "")]
        ).rstrip(os.pathsep)
    if not downloads:
        kernel_env.update(OFFLINE_ENV)
    return kernel_env


def _crashed(
    line: int, outputs: list[dict[str, Any]], seconds: float, kernel_log: Path, max_output_bytes: int
) -> CellResult:
    """The cell during which the kernel died, with the tail of the kernel's own log."""
    tail = kernel_log.read_text("utf-8", "replace").strip().splitlines()[-15:]
    return CellResult(
        line,
        "crashed",
        tuple(cap_outputs(outputs, max_output_bytes)),
        seconds,
        "the kernel died while running this cell (segfault, os._exit or out of memory?)",
        "\n".join(tail),
    )


def _finished(
    line: int,
    outputs: list[dict[str, Any]],
    seconds: float,
    timeout: float,
    downloads: bool,
    max_output_bytes: int,
) -> CellResult:
    """A cell the kernel finished: ok, an error, a timeout or a dataset it lacked."""
    outputs = cap_outputs(outputs, max_output_bytes)
    error, traceback = _error_of(outputs)
    status: CellStatus = "ok"
    # nbclient interrupts a cell at its timeout; the kernel then reports the
    # KeyboardInterrupt (whose traceback shows where the cell hung)
    interrupted = error.startswith("KeyboardInterrupt") and seconds >= timeout
    if interrupted or error.startswith(TIMEOUT_ERROR):
        status, error = "timeout", f"timed out after {timeout:g}s (interrupted)"
        outputs = [o for o in outputs if o.get("ename") != TIMEOUT_ERROR]
    elif error:
        status = "error"
        missing = needs_data(outputs, error, traceback, downloads)
        if missing is not None:
            status, error = "needs-data", missing
    return CellResult(line, status, tuple(outputs), seconds, error, traceback)


def run_program(
    program: Program,
    env: Environment,
    default_timeout: float,
    on_cell: Callable[[CellResult], None] | None = None,
    threads: int | None = None,
    max_output_bytes: int = DEFAULT_MAX_OUTPUT_BYTES,
    data_dir: Path | None = None,
    downloads: bool = True,
) -> ProgramRun:
    import nbformat
    from jupyter_client.kernelspec import KernelSpecManager
    from jupyter_client.manager import AsyncKernelManager
    from jupyter_core.utils import run_sync
    from nbclient import NotebookClient
    from nbclient.exceptions import DeadKernelError

    assert env.python is not None
    started = time.monotonic()
    # nbformat's constructors are untyped
    notebook = nbformat.v4.new_notebook()  # type: ignore[no-untyped-call]
    # cell 0 is the unseen set-up (d2lbook's tab selection); the program's cells follow
    notebook.cells = [nbformat.v4.new_code_cell(program.setup or "pass")] + [  # type: ignore[no-untyped-call]
        nbformat.v4.new_code_cell(cell.code)  # type: ignore[no-untyped-call]
        for cell in program.cells
    ]
    results: list[CellResult] = []
    with tempfile.TemporaryDirectory(prefix="toolkit-kernel-") as scratch:
        root = Path(scratch)
        workdir = root / "work"
        kernel_env = _scratch(root, program, env, threads, data_dir, downloads)
        name = _kernel_spec_dir(env, root)
        # async: nbclient polls "is the kernel alive?" on its event loop, which a blocking
        # client would stall forever after a crash
        manager = AsyncKernelManager(
            kernel_name=name, kernel_spec_manager=KernelSpecManager(kernel_dirs=[str(root / "kernels")])
        )
        client = NotebookClient(
            notebook,
            km=manager,
            allow_errors=True,
            interrupt_on_timeout=True,
            error_on_timeout={"ename": TIMEOUT_ERROR, "evalue": "", "traceback": []},
            startup_timeout=180,
            record_timing=False,
        )
        # The kernel process's own stdout/stderr (C++ logging, segfault messages) go to a log,
        # not to our terminal; its tail explains a crash.
        kernel_log = (root / "kernel.log").open("wb")
        try:
            with client.setup_kernel(cwd=str(workdir), env=kernel_env, stdout=kernel_log, stderr=kernel_log):
                client.timeout = 300
                setup = client.execute_cell(notebook.cells[0], 0)
                setup_error, _ = _error_of([dict(o) for o in setup.get("outputs", [])])
                if setup_error:
                    return ProgramRun(
                        (), time.monotonic() - started, problem=f"the set-up cell failed: {setup_error}"
                    )
                for index, cell in enumerate(program.cells, start=1):
                    timeout = cell.timeout or program.timeout or default_timeout
                    client.timeout = int(timeout)
                    client.error_on_timeout = {
                        "ename": TIMEOUT_ERROR,
                        "evalue": f"timed out after {timeout:g}s",
                        "traceback": [],
                    }
                    cell_started = time.monotonic()
                    try:
                        executed = client.execute_cell(notebook.cells[index], index)
                    except DeadKernelError:
                        kernel_log.flush()
                        result = _crashed(
                            cell.line,
                            [dict(o) for o in notebook.cells[index].get("outputs", [])],
                            time.monotonic() - cell_started,
                            root / "kernel.log",
                            max_output_bytes,
                        )
                        results.append(result)
                        if on_cell:
                            on_cell(result)
                        break
                    outputs = [json.loads(json.dumps(o)) for o in executed.get("outputs", [])]
                    executed["outputs"] = []  # the whole output is not kept in memory either
                    result = _finished(
                        cell.line,
                        outputs,
                        time.monotonic() - cell_started,
                        timeout,
                        downloads,
                        max_output_bytes,
                    )
                    results.append(result)
                    if on_cell:
                        on_cell(result)
        except Exception as error:  # the kernel did not start or the client broke: report, never raise
            if not results:
                return ProgramRun(
                    (), time.monotonic() - started, problem=f"kernel failed: {type(error).__name__}: {error}"
                )
        finally:
            kernel_log.close()
            # we own the kernel manager, so nbclient leaves the kernel to us
            if manager.has_kernel:
                # a dead kernel cannot be shut down twice; nothing to keep
                with suppress(Exception):
                    run_sync(manager.shutdown_kernel)(now=True)
        for cell in program.cells[len(results) :]:
            results.append(
                CellResult(cell.line, "not-run", (), 0.0, "not run: the kernel died before this cell")
            )
    return ProgramRun(tuple(results), time.monotonic() - started)
