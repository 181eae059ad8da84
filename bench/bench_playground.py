"""Server time of a Playground step and its redraw, 300 points and 5 classes (target < 100 ms).

    python bench/bench_playground.py [--n 30] [--warmup 3]

Three figures, each the median (and p95) over --n repeats:

- "core": what one step costs the maths and the figures alone: the step
  (core.playground.model.train, 1 step), the view (scores, losses, gradients, the
  100 x 100 class-region grid), the plane, history and point-table data, and the
  JSON Streamlit sends for the two charts.
- "page, one step": the whole page rerun after a click on "One step", through AppTest
  with one script cache kept across reruns (as `streamlit run` does; see
  bench/bench_explain_rerun.py): callbacks, widgets, both charts, the point table.
- "page, run 100": the same for "Run 100 steps": 100 steps in one rerun, one redraw.

Prints wall-clock and CPU milliseconds and the ratio of the target to the median; asserts
nothing. Run it on an idle machine for the figure to quote (the load average is printed).
"""

from __future__ import annotations

import argparse
import logging
import os
import statistics
import time
from pathlib import Path

from harness.apptest import shared_script_cache

ROOT = Path(__file__).resolve().parents[1]
TARGET_MS = 100.0
PAGE = "pages/playground.py"


def big_state():
    from core.playground.urlstate import PlaygroundState

    return PlaygroundState(preset="overlap", k=5, per_class=60, seed=7)  # 300 points, 5 classes


def time_core(n: int, warmup: int) -> tuple[list[float], list[float]]:
    import plotly.io as pio

    from core.charts.playground import history_figure, plane_figure
    from core.playground.model import Record, train
    from core.playground.view import build_view, point_table

    state = big_state()
    view = build_view(state)
    records = [Record.of(view.model, view.evaluation)]
    wall, cpu = [], []
    for i in range(warmup + n):
        t0, c0 = time.perf_counter(), time.process_time()
        pts = view.points
        path = train(view.model, pts.X, pts.y, state.loss, state.lam, state.lr, 1)
        state = state.with_weights(path.model.W, path.model.b)
        view = build_view(state)
        records.extend(path.records)
        point_table(view)
        for fig in (plane_figure(view, chosen=0), history_figure(records)):
            pio.to_json(fig.to_dict(), validate=False)
        if i >= warmup:
            wall.append(1000 * (time.perf_counter() - t0))
            cpu.append(1000 * (time.process_time() - c0))
    return wall, cpu


def time_page(button: str, n: int, warmup: int) -> tuple[list[float], list[float]]:
    from streamlit.testing.v1 import AppTest

    from core.playground.urlstate import encode_state

    at = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=120)
    at.run()
    at.query_params = encode_state(big_state())
    at.switch_page(PAGE).run()
    assert not at.exception, [e.value for e in at.exception]
    assert any(n.key.startswith("pg_w1_4_") for n in at.number_input if n.key)  # five classes' weights
    wall, cpu = [], []
    for i in range(warmup + n):
        t0, c0 = time.perf_counter(), time.process_time()
        at.button(key=button).click().run()
        if i >= warmup:
            wall.append(1000 * (time.perf_counter() - t0))
            cpu.append(1000 * (time.process_time() - c0))
        if button == "pg_run" and i % 5 == 4:  # keep the history (and its chart) a fair size
            at.button(key="pg_reset").click().run()
    assert not at.exception, [e.value for e in at.exception]
    return wall, cpu


def report(name: str, wall: list[float], cpu: list[float]) -> None:
    med = statistics.median(wall)
    p95 = sorted(wall)[max(0, round(0.95 * len(wall)) - 1)]
    print(
        f"{name:<22} median {med:7.1f} ms   p95 {p95:7.1f} ms   CPU median {statistics.median(cpu):7.1f} ms"
        f"   target {TARGET_MS:.0f} ms / median = {TARGET_MS / med:.1f}x"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=30)
    parser.add_argument("--warmup", type=int, default=3)
    args = parser.parse_args()
    logging.getLogger("streamlit").setLevel(logging.ERROR)
    print(f"Playground step, 300 points x 5 classes; load average {os.getloadavg()[0]:.2f}")
    report("core", *time_core(args.n, args.warmup))
    with shared_script_cache():
        report("page, one step", *time_page("pg_step", args.n, args.warmup))
        report("page, run 100 steps", *time_page("pg_run", args.n, args.warmup))


if __name__ == "__main__":
    main()
