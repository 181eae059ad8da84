"""Server-side rerun time of the Explain page after a slider move (target: median < 50 ms).

    python bench/bench_explain_rerun.py [--n 60] [--warmup 5]

Drives the page with AppTest as the tests do: move one score slider, `at.run()`, and time
that call (the whole rerun: callbacks, the view-model, the live block's data, the charts,
the protobuf messages). While a slider is being dragged the server does nothing at all:
the browser computes the live block (ui/explain_live.js); this is the cost of a release. Two settings, each with 4 classes (the post's example) and 10 (the
most the page allows):

- "AppTest as is": AppTest makes a new script cache on every run, so each rerun also
  recompiles streamlit_app.py and pages/explain.py (and runs Streamlit's "magic" pass).
- "server cache": the same, with one script cache kept across reruns, as `streamlit run`
  does; this is the figure a user's click costs on the server.

Prints wall-clock median and p95, the median CPU time, and the ratio of the target to the
median; asserts nothing. Wall time on a busy machine includes waiting for a core, so the
load average is printed too; run it on an idle machine for the figure to quote.

AppTest times the script body only. `--server` times what a user's slider move costs a
real `streamlit run` instead (bench/load_test.py's server and websocket client, one
session, moves one after another): the round trip, and the server process's CPU per
rerun, which also counts what AppTest does not see (the event loop, sending the
messages, and Streamlit's `gc.collect()` after every run where `runner.postScriptGC` is
on). By default the server runs as configured (.streamlit/config.toml turns that gc off);
`--post-gc` turns it back on, to compare:

    python bench/bench_explain_rerun.py --server [--n 150] [--post-gc]
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import statistics
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TARGET_MS = 50.0


def shared_script_cache(enabled: bool):
    """harness.apptest.shared_script_cache, or nothing (to time a cold page too)."""
    from harness.apptest import shared_script_cache as shared

    return shared() if enabled else contextlib.nullcontext()


def open_explain(n_classes: int):
    from streamlit.testing.v1 import AppTest

    from core.explain.state import default_state, encode_state

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


async def _server_reruns(server, n: int, warmup: int) -> tuple[list[float], float]:
    """(wall s per rerun, server CPU s over the timed reruns): one session moving a slider."""
    from streamlit.proto.WidgetStates_pb2 import WidgetState

    from harness.socket_client import open_socket

    sock = await open_socket(server.url)
    try:
        walls, step, cpu0 = [], 0.01, 0.0
        for i in range(warmup + n):
            if i == warmup:
                cpu0 = server.cpu_seconds()
            value = round(sock.widgets["exact score of dog"].value + step, 2)
            state = WidgetState(id=sock.widgets["score of dog"].id)
            state.double_array_value.data.append(value)
            t0 = time.perf_counter()
            widgets, problems = await sock.rerun(state)
            if i >= warmup:
                walls.append(time.perf_counter() - t0)
            if problems or abs(widgets["exact score of dog"].value - value) > 1e-9:
                raise RuntimeError(f"the page did not follow the slider: {problems}")
            if (i + 1) % 20 == 0:  # back and forth
                step = -step
        return walls, server.cpu_seconds() - cpu0
    finally:
        await sock.close()


def time_server(n: int, warmup: int, post_gc: bool) -> None:
    import asyncio
    import tempfile

    from harness.app_server import AppServer

    env_key = "STREAMLIT_RUNNER_POST_SCRIPT_GC"
    saved = os.environ.get(env_key)
    if post_gc:
        os.environ[env_key] = "true"
    with tempfile.TemporaryDirectory(prefix="softmax-bench-") as work:
        work = Path(work)
        (work / "data").mkdir()
        (work / "cache").mkdir()
        server = AppServer(
            {"SOFTMAX_DATA_DIR": str(work / "data"), "SOFTMAX_CACHE_DIR": str(work / "cache")}, work
        )
        try:
            server.wait_healthy()
            walls, cpu = asyncio.run(_server_reruns(server, n, warmup))
        finally:
            server.stop()
            if saved is None:
                os.environ.pop(env_key, None)
            else:
                os.environ[env_key] = saved
    ms = [1000 * w for w in walls]
    print(
        f"real server (streamlit run, {'runner.postScriptGC on' if post_gc else 'as configured'}), "
        f"one session, {n} slider moves after {warmup} untimed"
    )
    print(
        f"round trip median {statistics.median(ms):.1f} ms, p95 {p95(ms):.1f} ms; "
        f"server CPU per rerun {1000 * cpu / n:.1f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=60, help="timed reruns per setting")
    parser.add_argument("--warmup", type=int, default=5, help="untimed reruns first")
    parser.add_argument(
        "--server",
        action="store_true",
        help="time a real `streamlit run` over its websocket instead of AppTest",
    )
    parser.add_argument(
        "--post-gc", action="store_true", help="with --server: turn Streamlit's gc after every run back on"
    )
    args = parser.parse_args()
    logging.getLogger("streamlit").setLevel(logging.ERROR)
    if args.server:
        print(f"load average before: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
        time_server(args.n, args.warmup, post_gc=args.post_gc)
        print(f"load average after: {os.getloadavg()[0]:.1f}")
        return

    print(
        f"Explain page, server-side rerun after a slider move ({args.n} reruns each, "
        f"target median < {TARGET_MS:.0f} ms)"
    )
    print(f"load average before: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    print(
        f"{'setting':<16}{'classes':>8}{'median ms':>11}{'p95 ms':>9}{'CPU median ms':>15}"
        f"{'target/median':>15}"
    )
    for label, cached in (("AppTest as is", False), ("server cache", True)):
        for k in (4, 10):
            with shared_script_cache(cached):
                walls, cpus = time_reruns(k, args.n, args.warmup)
            med = statistics.median(walls)
            print(
                f"{label:<16}{k:>8}{med:>11.1f}{p95(walls):>9.1f}{statistics.median(cpus):>15.1f}"
                f"{TARGET_MS / med:>14.2f}x"
            )
    print(f"load average after: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
