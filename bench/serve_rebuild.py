"""Benchmark: `mkdocs serve --dirty` on the whole book, from saving a chapter to its page rebuilt.

Starts the real server on a free local port, waits for its first (full) build, then edits a
chapter N times (a line appended, later removed) and measures, from each save, the time until
the served page shows the edit. Prints the first build and each save → page time, and their
ratio (target from issue #10: a saved chapter is on the page <= 3 s after the save). The
server is stopped and the chapter restored at the end, also on failure.
Usage: python bench/serve_rebuild.py [--chapter translations/ko-partrita/...md] [--repeat N]
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MKDOCS = Path(sys.executable).parent / "mkdocs"
DEFAULT_CHAPTER = "translations/ko-partrita/chapter_computational-performance/hybridize.md"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def fetch(url: str) -> str:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return str(response.read().decode("utf-8", "replace"))
    except (urllib.error.URLError, OSError):
        return ""


def wait_for(url: str, marker: str, deadline: float, server: subprocess.Popen[bytes]) -> float:
    """Seconds until the page at ``url`` contains ``marker`` (polled every 50 ms)."""
    started = time.perf_counter()
    while time.perf_counter() - started < deadline:
        if server.poll() is not None:
            sys.exit(f"mkdocs serve exited with {server.returncode}")
        if marker in fetch(url):
            return time.perf_counter() - started
        time.sleep(0.05)
    sys.exit(f"{url} did not show {marker!r} within {deadline:.0f} s")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--chapter", default=DEFAULT_CHAPTER)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    chapter = ROOT / args.chapter
    edition, _, page = Path(args.chapter).relative_to("translations").as_posix().partition("/")
    language = edition.split("-", 1)[0]
    port = free_port()
    url = f"http://127.0.0.1:{port}/{language}/{page[: -len('.md')]}/"
    original = chapter.read_text("utf-8")
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    started = time.perf_counter()
    server = subprocess.Popen(
        [str(MKDOCS), "serve", "--dirty", "-a", f"127.0.0.1:{port}"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        wait_for(url, "</html>", 1800, server)
        first = time.perf_counter() - started  # MkDocs' start and the first (full) build
        print(f"first build (whole book, every language): {first:.1f}s")
        times = []
        for attempt in range(args.repeat):
            marker = f"serve-bench-edit-{attempt}-{time.time_ns()}"
            chapter.write_text(original.rstrip("\n") + f"\n\n{marker}\n", "utf-8")
            times.append(wait_for(url, marker, 600, server))
            chapter.write_text(original, "utf-8")
            time.sleep(3)  # let the restoring rebuild finish before the next edit
        for attempt, seconds in enumerate(times, 1):
            print(f"save -> page rebuilt #{attempt}: {seconds:.2f}s")
        best = min(times)
        print(f"best save -> page: {best:.2f}s (target <= 3 s), {best / first:.3f}x the first build")
    finally:
        chapter.write_text(original, "utf-8")
        os.killpg(server.pid, signal.SIGINT)
        try:
            server.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)


if __name__ == "__main__":
    main()
