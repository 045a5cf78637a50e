"""run-cells on a Ray cluster: each queued (chapter, framework) program is one Ray task.

Invariants:
- A task asks for one CPU, and for ``num_gpus=1`` when its framework runs on a GPU, so Ray
  places it on a node with a free GPU and sets ``CUDA_VISIBLE_DEVICES`` for it; the kernel
  inherits the task's environment.
- A task runs the program in the worker node's own environment of the framework
  (``toolkit envs`` there, or ``TOOLKIT_PYTHON_<FRAMEWORK>``) and refuses to run when its lock
  hash differs from the driver's, since the outputs would be cached under the driver's key.
- Tasks return ``ProgramRun`` values; only the driver writes the cache and the manifests. The
  library travels inside the program, so workers need no copy of the project; the dataset
  cache is the same path on every node (a shared file system), as d2l's ``../data`` is.
- The driver connects, submits, collects in completion order and disconnects; it never starts
  or stops the cluster.
"""

from __future__ import annotations

import logging
import socket
import time
from collections.abc import Callable
from pathlib import Path

from toolkit.execute.kernel import run_program
from toolkit.execute.programs import Program
from toolkit.execute.results import ProgramRun


def execute_on_node(
    program: Program,
    lock_hash: str,
    default_timeout: float,
    max_output_bytes: int,
    data_dir: Path | None,
    downloads: bool,
) -> ProgramRun:
    """The body of one Ray task: run ``program`` in this node's environment."""
    from toolkit.execute.environments import find_environment

    node = socket.gethostname()
    env = find_environment(program.framework)
    if not env.ready:
        return ProgramRun((), 0.0, problem=f"on Ray node {node}: {env.reason}")
    if env.lock_hash != lock_hash:
        return ProgramRun(
            (),
            0.0,
            problem=(
                f"on Ray node {node}: the {program.framework} environment differs from the driver's "
                f"(lock {env.lock_hash}, driver {lock_hash}); build the same requirements there"
            ),
        )
    run = run_program(
        program,
        env,
        default_timeout,
        threads=1,
        max_output_bytes=max_output_bytes,
        data_dir=data_dir,
        downloads=downloads,
    )
    return ProgramRun(run.cells, run.seconds, run.problem, {**run.extra, "node": node})


def run_on_ray(
    address: str,
    jobs: list[tuple[Program, str]],
    gpu: dict[str, bool],
    default_timeout: float,
    max_output_bytes: int,
    data_dir: Path | None,
    downloads: bool,
    on_done: Callable[[int, ProgramRun], None],
) -> None:
    """Run ``jobs`` ((program, environment lock hash)) on the cluster at ``address``; calls
    ``on_done(index, run)`` as each finishes. A cluster that cannot be reached is a
    ``ClusterError``."""
    import ray

    _check_reachable(address)
    try:
        ray.init(address=address, log_to_driver=False, logging_level=logging.ERROR, configure_logging=False)
    except (ConnectionError, RuntimeError, ValueError) as error:
        raise ClusterError(f"cannot connect to the Ray cluster at {address}: {error}") from error
    try:
        task = ray.remote(execute_on_node)
        pending = {}
        for index, (program, lock_hash) in enumerate(jobs):
            options = {"num_cpus": 1, "num_gpus": 1 if gpu.get(program.framework) else 0, "max_retries": 0}
            ref = task.options(**options).remote(
                program, lock_hash, default_timeout, max_output_bytes, data_dir, downloads
            )
            pending[ref] = index
        while pending:
            done, _ = ray.wait(list(pending), num_returns=1)
            for ref in done:
                index = pending.pop(ref)
                started = time.monotonic()
                try:
                    run = ray.get(ref)
                except Exception as error:  # a task or its node died: a result, not a crash of the driver
                    run = ProgramRun((), time.monotonic() - started, problem=f"Ray task failed: {error}")
                on_done(index, run)
    finally:
        ray.shutdown()


def _check_reachable(address: str) -> None:
    """Fail fast on a ``host:port`` nobody listens on: Ray itself retries for minutes."""
    host, _, port = address.rpartition(":")
    if not host or not port.isdigit() or "://" in address:
        return  # "auto", "ray://…": Ray's own resolution
    try:
        with socket.create_connection((host, int(port)), timeout=10):
            pass
    except OSError as error:
        raise ClusterError(
            f"cannot connect to the Ray cluster at {address}: {error.strerror or error} "
            "(start one with `ray start --head`, or leave out --ray to use the local pool)"
        ) from error


class ClusterError(Exception):
    """The Ray cluster could not be used; the CLI prints it and exits 2."""
