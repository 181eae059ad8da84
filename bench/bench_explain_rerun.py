"""Server-side rerun time of the Explain page after a slider move (target: median < 50 ms).

    python bench/bench_explain_rerun.py [--n 60] [--warmup 5]

Drives the page with AppTest as the tests do: move one score slider, `at.run()`, and time
that call (the whole rerun: callbacks, the maths, the table, the three charts, the
protobuf messages). Two settings, each with 4 classes (the post's example) and 10 (the
most the page allows):

- "AppTest as is": AppTest makes a new script cache on every run, so each rerun also
  recompiles streamlit_app.py and pages/explain.py (and runs Streamlit's "magic" pass).
- "server cache": the same, with one script cache kept across reruns, as `streamlit run`
  does; this is the figure a user's click costs on the server.

Prints wall-clock median and p95, the median CPU time, and the ratio of the target to the
median; asserts nothing. Wall time on a busy machine includes waiting for a core, so the
load average is printed too; run it on an idle machine for the figure to quote.
"""
from __future__ import annotations

import argparse
import contextlib
import logging
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
TARGET_MS = 50.0


@contextlib.contextmanager
def shared_script_cache(enabled: bool):
    """Keep compiled page bytecode across AppTest runs, as a real server does."""
    from streamlit.runtime.scriptrunner import script_cache

    if not enabled:
        yield
        return
    shared = script_cache.ScriptCache()
    original = script_cache.ScriptCache.get_bytecode
    script_cache.ScriptCache.get_bytecode = lambda self, path: original(shared, path)
    try:
        yield
    finally:
        script_cache.ScriptCache.get_bytecode = original


def open_explain(n_classes: int):
    from streamlit.testing.v1 import AppTest

    from core.urlstate import default_state, encode_state

    at = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=60)
    state = default_state()
    if n_classes != len(state.classes):
        names = tuple(f"class {i + 1}" for i in range(n_classes))
        state = type(state)(names, tuple(float(i) - 4.5 for i in range(n_classes)), 0)
    at.query_params = encode_state(state)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def time_reruns(n_classes: int, n: int, warmup: int) -> tuple[list[float], list[float]]:
    """(wall ms, CPU ms) per rerun. CPU time counts every thread of this process (the
    script thread and AppTest's), so other load on a shared machine barely moves it."""
    at = open_explain(n_classes)
    slider = f"slider_{n_classes - 1}"
    walls, cpus = [], []
    for i in range(warmup + n):
        at.slider(key=slider).set_value(round(-5 + (i % 50) * 0.2, 2))
        t0, c0 = time.perf_counter(), time.process_time()
        at.run()
        wall, cpu = (time.perf_counter() - t0) * 1000, (time.process_time() - c0) * 1000
        if i >= warmup:
            walls.append(wall)
            cpus.append(cpu)
    assert not at.exception, [e.value for e in at.exception]
    return walls, cpus


def p95(xs: list[float]) -> float:
    return sorted(xs)[min(len(xs) - 1, round(0.95 * (len(xs) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=60, help="timed reruns per setting")
    parser.add_argument("--warmup", type=int, default=5, help="untimed reruns first")
    args = parser.parse_args()
    logging.getLogger("streamlit").setLevel(logging.ERROR)

    print(f"Explain page, server-side rerun after a slider move ({args.n} reruns each, "
          f"target median < {TARGET_MS:.0f} ms)")
    print(f"load average before: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    print(f"{'setting':<16}{'classes':>8}{'median ms':>11}{'p95 ms':>9}{'CPU median ms':>15}"
          f"{'target/median':>15}")
    for label, cached in (("AppTest as is", False), ("server cache", True)):
        for k in (4, 10):
            with shared_script_cache(cached):
                walls, cpus = time_reruns(k, args.n, args.warmup)
            med = statistics.median(walls)
            print(f"{label:<16}{k:>8}{med:>11.1f}{p95(walls):>9.1f}{statistics.median(cpus):>15.1f}"
                  f"{TARGET_MS / med:>14.2f}x")
    print(f"load average after: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
