"""Whole-process measurements for the benchmarks: wall time and peak resident memory.

Each measured task runs in its own child process (``python -c CODE``), so imports, parsing and
writing all count, exactly as a user's command would; peak memory is the child's ``ru_maxrss``.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time


def run_python(code: str, *, repeat: int = 1, env: dict[str, str] | None = None) -> tuple[float, float]:
    """Median wall seconds and max peak MB of ``python -c code`` over ``repeat`` runs."""
    walls, peaks = [], []
    for _ in range(repeat):
        wall, peak = run_command([sys.executable, "-c", code], env=env)
        walls.append(wall)
        peaks.append(peak)
    return statistics.median(walls), max(peaks)


def run_command(argv: list[str], *, env: dict[str, str] | None = None) -> tuple[float, float]:
    """Wall seconds and peak MB of one child process (raises when it fails)."""
    start = time.perf_counter()
    process = subprocess.Popen(argv, env={**os.environ, **(env or {})}, stdout=subprocess.DEVNULL)
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - start
    if status != 0:
        raise RuntimeError(f"{argv[:3]}… failed with status {status}")
    return wall, usage.ru_maxrss / 1024


def print_table(rows: list[tuple[str, float, float]], *, items: int, unit: str, floor: str) -> None:
    """Rows of (name, wall s, peak MB) with throughput and ratios to the row named ``floor``."""
    base = next((wall for name, wall, _ in rows if name == floor), None)
    print(f"{'task':<44} {'wall s':>8} {unit + '/s':>12} {'peak MB':>9} {'× ' + floor:>14}")
    for name, wall, peak in rows:
        ratio = f"{wall / base:.2f}" if base else "-"
        print(f"{name:<44} {wall:>8.2f} {items / wall:>12,.0f} {peak:>9.0f} {ratio:>14}")
