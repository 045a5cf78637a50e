"""Worker processes that parse and check chapters, each keeping what it parsed.

A worker is one forked process with a pipe, so the parent chooses which worker does what: it
parses files into its own ``ChapterStore`` and answers their labels (the parent needs only
labels to map chapters and collect the book's labels), then checks the chapters whose files it
already holds. Started before the parent parses anything (``toolkit check-alignment``), the
workers share the parsing too; started later (the site, which parses every chapter anyway),
they inherit what the parent parsed.

Invariant: the parent never waits on more than one answer per worker, and a worker's error
(a file that cannot be read) is raised again in the parent as the same exception.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import traceback
from collections.abc import Iterable, Iterator, Sequence
from multiprocessing.connection import Connection, wait
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from multiprocessing.process import BaseProcess

    from toolkit.checker import ChapterJob, ChapterResult, ChapterStore

#: Jobs per message: small enough for steady progress, large enough that pipes cost nothing.
CHUNK = 8


def chapter_key(path: Path) -> str:
    """The same chapter's files in every edition and revision share this key (its path from
    the ``chapter_*`` folder on, ``x_origin.md`` as ``x.md``): a worker given them all parses
    each English file once for every edition."""
    parts = path.parts
    start = next((i for i, part in enumerate(parts) if part.startswith("chapter_")), len(parts) - 1)
    key = "/".join(parts[start:])
    return key[: -len("_origin.md")] + ".md" if key.endswith("_origin.md") else key


@contextlib.contextmanager
def workers_for(store: ChapterStore) -> Iterator[CheckWorkers | None]:
    """One worker per core sharing ``store``'s parsing, or None on a single core."""
    cores = os.cpu_count() or 1
    if cores < 2:
        yield None
        return
    with CheckWorkers(store, cores) as workers:
        yield workers


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


class CheckWorkers:
    """``count`` forked workers; a context manager that stops them on exit."""

    def __init__(self, store: ChapterStore, count: int) -> None:
        context = multiprocessing.get_context("fork")
        self.store = store
        self._workers: list[tuple[BaseProcess, Connection]] = []
        self._held: list[set[Path]] = [set() for _ in range(count)]
        for _ in range(count):
            parent, child = context.Pipe()
            # forked: the worker starts with the store as it is now (no pickling)
            process = context.Process(target=_serve, args=(child, store), daemon=True)
            process.start()
            child.close()
            self._workers.append((process, parent))

    def __enter__(self) -> CheckWorkers:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def close(self) -> None:
        for _, connection in self._workers:
            with contextlib.suppress(OSError):  # it already ended
                connection.send(None)
            connection.close()
        for process, _ in self._workers:
            process.join(timeout=5)
            if process.is_alive():
                process.terminate()
        self._workers = []

    def prefetch_labels(self, paths: Iterable[Path]) -> None:
        """Parse ``paths`` in the workers, the files of one chapter in one worker and the
        work balanced by size, and hand their labels to the store (``remember_labels``)."""
        groups: dict[str, list[Path]] = {}
        for path in dict.fromkeys(paths):
            groups.setdefault(chapter_key(path), []).append(path)
        shares: list[list[Path]] = [[] for _ in self._workers]
        load = [0] * len(self._workers)
        for group in sorted(groups.values(), key=lambda g: -sum(map(_size, g))):
            lightest = load.index(min(load))
            shares[lightest].extend(group)
            load[lightest] += sum(map(_size, group))
        tasks = [[("labels", share)] if share else [] for share in shares]
        for worker, (_, share), answer in self._run(tasks):
            for path, labels in zip(share, answer, strict=True):
                self.store.remember_labels(path, labels)
                self._held[worker].add(path.resolve())

    def check(
        self,
        jobs: Sequence[ChapterJob],
        book_labels: dict[str, frozenset[str]],
        judgements: dict[str, str] | None,
        select: tuple[str, ...],
        ignore: tuple[str, ...],
    ) -> Iterator[tuple[list[int], list[ChapterResult], dict[str, str], int]]:
        """Check ``jobs``, each in the worker that already parsed most of its bytes (the
        parsing was balanced, so the checking is too), the lighter one when none did; yields
        (indexes into ``jobs``, their results, language judgements made, model calls) as
        chunks finish."""
        assigned: list[list[int]] = [[] for _ in self._workers]
        load = [0] * len(self._workers)
        for index, job in enumerate(jobs):
            files = {p.resolve(): _size(p) for p in _job_files(job)}
            held = [sum(size for path, size in files.items() if path in mine) for mine in self._held]
            worker = min(range(len(self._workers)), key=lambda w: (-held[w], load[w]))
            assigned[worker].append(index)
            load[worker] += sum(files.values())
            self._held[worker] |= set(files)
        tasks: list[list[tuple[str, Any]]] = []
        for indexes in assigned:
            begin: list[tuple[str, Any]] = [("begin", (book_labels, judgements, select, ignore))]
            chunks = [indexes[start : start + CHUNK] for start in range(0, len(indexes), CHUNK)]
            tasks.append(begin + [("check", (chunk, [jobs[i] for i in chunk])) for chunk in chunks])
        for _, (name, payload), answer in self._run(tasks):
            if name == "check":
                results, made, calls = answer
                yield payload[0], results, made, calls

    def _run(self, tasks: list[list[tuple[str, Any]]]) -> Iterator[tuple[int, tuple[str, Any], Any]]:
        """Send each worker its tasks in order, one in flight at a time; yield (worker,
        task, answer) as answers come."""
        queues = [list(reversed(t)) for t in tasks]
        waiting: dict[Connection, tuple[int, tuple[str, Any]]] = {}

        def send_next(worker: int) -> None:
            if queues[worker]:
                task = queues[worker].pop()
                connection = self._workers[worker][1]
                if task[0] == "check":
                    connection.send(("check", task[1][1]))
                else:
                    connection.send(task)
                waiting[connection] = (worker, task)

        for worker in range(len(self._workers)):
            send_next(worker)
        while waiting:
            for ready in wait(list(waiting)):
                assert isinstance(ready, Connection)
                worker, task = waiting.pop(ready)
                try:
                    status, answer = ready.recv()
                except EOFError:
                    raise RuntimeError(
                        f"check worker {worker} ended without answering (out of memory?)"
                    ) from None
                if status == "error":
                    raise answer
                send_next(worker)
                yield worker, task, answer


def _job_files(job: ChapterJob) -> list[Path]:
    return [
        job.translation,
        *([job.basis] if job.basis else []),
        *([job.today] if job.today else []),
        *(path for _, path, _ in job.candidates),
    ]


def _serve(connection: Connection, store: ChapterStore) -> None:
    """A worker's loop: answer each task until the parent sends None or goes away."""
    from toolkit.checker import check_job
    from toolkit.language import LanguageDetector

    state: dict[str, Any] = {}
    while True:
        try:
            task = connection.recv()
        except (EOFError, OSError):
            return
        if task is None:
            return
        name, payload = task
        try:
            answer: Any = None
            if name == "labels":
                answer = [store.labels(path) for path in payload]

            elif name == "begin":
                book_labels, judgements, select, ignore = payload
                detector = None
                if judgements is not None:
                    detector = LanguageDetector(None)
                    detector.cache = dict(judgements)
                state.update(labels=book_labels, detector=detector, select=select, ignore=ignore)
            elif name == "check":
                detector = state["detector"]
                known = set(detector.cache) if detector is not None else set()
                calls = detector.model_calls if detector is not None else 0
                results = [
                    check_job(
                        job,
                        store,
                        state["labels"].get(job.edition, frozenset()),
                        detector,
                        state["select"],
                        state["ignore"],
                    )
                    for job in payload
                ]
                made = {k: v for k, v in detector.cache.items() if k not in known} if detector else {}
                answer = (results, made, (detector.model_calls - calls) if detector else 0)
            reply: tuple[str, Any] = ("ok", answer)
        except Exception as error:  # the parent reports it; the worker goes on serving
            reply = ("error", error)
        try:
            try:
                connection.send(reply)
            except OSError:
                raise
            except Exception:  # an answer or exception that does not pickle
                connection.send(("error", RuntimeError(traceback.format_exc())))
        except OSError:
            return  # the parent went away
