"""Running a tool: wall and CPU time, peak RSS of the process and of its tree."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from .common import SAMPLE_INTERVAL


@dataclass
class Run:
    seconds: float
    cpu_seconds: float
    peak_rss_mb: float  # ru_maxrss from wait4: the largest single process of the tree
    tree_rss_mb: float | None  # sampled sum over the tree (shared pages counted once per process)
    exit_code: int
    crashed: bool
    stdout: str
    stderr: str


def _children(pid: int) -> list[int]:
    kids: list[int] = []
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return kids
    for tid in tasks:
        try:
            with open(f"/proc/{pid}/task/{tid}/children") as fh:
                kids.extend(int(k) for k in fh.read().split())
        except OSError:
            pass
    return kids


def _rss_bytes(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/statm") as fh:
            return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return 0


class TreeSampler(threading.Thread):
    """Polls the RSS of a process and its descendants; keeps the largest sum seen (Linux /proc only)."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid = pid
        self.peak = 0
        self.supported = os.path.exists(f"/proc/{os.getpid()}/task/{os.getpid()}/children")
        self._done = threading.Event()

    def run(self) -> None:
        while self.supported and not self._done.is_set():
            total, todo, seen = 0, [self.pid], set()
            while todo:
                pid = todo.pop()
                if pid in seen:
                    continue
                seen.add(pid)
                total += _rss_bytes(pid)
                todo.extend(_children(pid))
            self.peak = max(self.peak, total)
            self._done.wait(SAMPLE_INTERVAL)

    def stop(self) -> None:
        self._done.set()
        self.join()


def looks_crashed(exit_code: int, stderr: str) -> bool:
    return exit_code not in (0, 1) or "Traceback (most recent call last)" in stderr or "panicked" in stderr


def run_measured(argv: list[str], cwd: Path) -> Run:
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started = time.perf_counter()
        proc = subprocess.Popen(argv, cwd=cwd, stdin=subprocess.DEVNULL, stdout=out, stderr=err)
        sampler = TreeSampler(proc.pid)
        sampler.start()
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - started
        sampler.stop()
        proc.returncode = os.waitstatus_to_exitcode(status)  # reaped here: Popen must not wait again
        out.seek(0)
        err.seek(0)
        stdout = out.read().decode("utf-8", "replace")
        stderr = err.read().decode("utf-8", "replace")
    maxrss_kb = usage.ru_maxrss / (1024 if sys.platform == "darwin" else 1)  # bytes on macOS, KiB on Linux
    return Run(
        seconds=seconds,
        cpu_seconds=usage.ru_utime + usage.ru_stime,
        peak_rss_mb=maxrss_kb / 1024,
        # A short run can end between two samples; the tree holds at least its largest process.
        tree_rss_mb=max(sampler.peak / 2**20, maxrss_kb / 1024) if sampler.supported else None,
        exit_code=proc.returncode,
        crashed=looks_crashed(proc.returncode, stderr),
        stdout=stdout,
        stderr=stderr,
    )


def load_average() -> list[float] | None:
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:  # pragma: no cover - not available on this platform
        return None


def capture(argv: list[str], **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(argv, capture_output=True, text=True, **kwargs)
