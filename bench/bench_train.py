"""Time from clicking Train to seeing the report, on original-size Kaggle JPEGs.

    python -m bench.bench_train [--sample ../shared/data/kaggle-sample] [--n 25000] [--repeat 3]

Two measurements, each cold (empty feature cache) and warm:
1. core.learn.train.train_folder, what the page's worker runs to show the report (list,
   fingerprint, extract, train log loss + hinge), each stage timed from its progress
   reports; then the learning curves, which the page makes after the report (curves_folder);
   warm = features from the disk cache, the process's memory of past runs cleared (an app
   restart, or another process of the deployment);
2. the page itself in AppTest: click Train, rerun until the report is there; warm disk =
   a new session after the in-memory caches are cleared, warm memory = Train again
   (--skip-page leaves it out).
--n images are hard links in a temporary data dir to the sample's files, taken in turn
(25,000 = each real image 25 times, all decoded: nothing is de-duplicated), never copied
into the repo. Prints figures and ratios; asserts nothing. Target (issue 15), 25,000
images: under 6 s cold, under 1.5 s with the features cached.
"""

from __future__ import annotations

import argparse
import itertools
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_SAMPLE = ROOT.parent / "shared" / "data" / "kaggle-sample"


def core_click_to_report(root: Path, config) -> dict:
    """core.learn.train.train_folder as the page's worker calls it, its stages timed."""
    from core.learn import train as T

    T._MEMORY.clear()  # a restart: only the disk cache is warm
    marks: dict[str, float] = {}
    t0 = time.perf_counter()

    def progress(stage, done, total):
        marks.setdefault(stage, time.perf_counter() - t0)

    # As the page: the report first, then the learning curves from the cache just written.
    run = T.train_folder(
        root, config, dataset_name=root.name, within=root.parent, progress=progress, with_curves=False
    )
    total = time.perf_counter() - t0
    t1 = time.perf_counter()
    T.curves_folder(root, run, within=root.parent)
    curves = time.perf_counter() - t1
    # A stage lasts from its first progress report to the next stage's: "listing" also holds
    # the fingerprint and the disk cache's load (features report once the cache is read).
    order = [k for k in ("listing", "features", "training") if k in marks] + ["end"]
    marks["end"] = total
    names = {"listing": "listing + cache load", "features": "describing"}
    stages = {names.get(a, a): marks[b] - marks[a] for a, b in itertools.pairwise(order)}
    return {
        **stages,
        "total": total,
        "then learning curves": curves,
        "n": len(run.post.y),
        "accuracy": run.post.accuracy,
        "post": run.post,
    }


def link_images(sample: Path, dest: Path, n: int) -> int:
    """n hard links in dest to the sample's images, in turn, named as Kaggle's (cat.N.jpg)."""
    from core.dataset import load_dataset

    sources = load_dataset(sample).paths
    dest.mkdir(parents=True)
    for i in range(n):
        src = sources[i % len(sources)]
        link = dest / f"{os.path.basename(src).split('.')[0]}.{i}.jpg"
        try:
            os.link(src, link)
        except OSError:
            shutil.copy2(src, link)  # another filesystem: a copy (the app refuses links out)
    return n


def apptest_click_to_report(name: str, at=None) -> tuple[float, object]:
    import streamlit as st

    from harness.apptest import open_page

    if at is None:
        st.cache_data.clear()
        st.cache_resource.clear()
        at = open_page("pages/train.py", timeout=600)
        box = at.selectbox(key="dataset")
        box.select_index([str(o).startswith(name) for o in box.options].index(True)).run()
    t0 = time.perf_counter()
    at.button(key="train").click().run()
    dt = time.perf_counter() - t0
    assert not at.exception and not at.error, [e.value for e in [*at.exception, *at.error]]
    assert any("precision" in t.value.columns for t in at.table), "no report shown"
    return dt, at


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sample", type=Path, default=Path(os.environ.get("SOFTMAX_SAMPLE_DIR", DEFAULT_SAMPLE)))
    ap.add_argument("--n", type=int, default=25_000, help="images (hard links to the sample's, in turn)")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--skip-page", action="store_true", help="only the core calls, not the page in AppTest")
    args = ap.parse_args()
    if not args.sample.is_dir():
        sys.exit(f"sample not found: {args.sample}")
    tmp = Path(tempfile.mkdtemp(prefix="bench-train-"))
    os.environ["SOFTMAX_DATA_DIR"] = str(tmp / "data")
    try:
        name = f"kaggle-{args.n}"
        data = tmp / "data" / name
        link_images(args.sample, data, args.n)
        from core.learn.config import TrainConfig

        config = TrainConfig()
        print(
            f"{args.n:,} original-size images (links to {args.sample}), {os.cpu_count()} cores, "
            f"load average {os.getloadavg()[0]:.2f}; config {config.summary()}"
        )
        print("\n-- core.learn.train.train_folder, what the page's worker runs (seconds, median) --")
        cold, warm = [], []
        for i in range(args.repeat):
            os.environ["SOFTMAX_CACHE_DIR"] = str(tmp / f"cache-core-{i}")
            cold.append(core_click_to_report(data, config))
            warm.append(core_click_to_report(data, config))
        for label, runs, target in (("cold", cold, 6.0), ("warm", warm, 1.5)):
            med = {k: statistics.median(r[k] for r in runs) for k in runs[0] if isinstance(runs[0][k], float)}
            parts = ", ".join(f"{k} {v:.2f}" for k, v in med.items() if k not in ("total", "accuracy"))
            mark = "ok" if med["total"] < target else "MISS"
            print(f"{label}: click to report {med['total']:.2f} (target < {target:g} s: {mark}); {parts}")
        print("cold totals: " + ", ".join(f"{r['total']:.2f}" for r in cold))
        print("warm totals: " + ", ".join(f"{r['total']:.2f}" for r in warm))
        print(f"load average after: {os.getloadavg()[0]:.2f}")
        post = cold[0]["post"]
        print(f"\naccuracy (post's recipe, fast features): {post.accuracy:.1%}")
        if args.skip_page:
            return
        print("\n-- the page in AppTest: click Train -> report (seconds) --")
        rows = []
        for i in range(args.repeat):
            os.environ["SOFTMAX_CACHE_DIR"] = str(tmp / f"cache-app-{i}")
            c, _ = apptest_click_to_report(name)
            w, at = apptest_click_to_report(name)
            m, _ = apptest_click_to_report(name, at)
            rows.append((c, w, m))
        c, w, m = (statistics.median(col) for col in zip(*rows))
        print(
            f"cold (empty cache) {c:.3f}   warm disk cache (new session) {w:.3f}   "
            f"warm memory (Train again) {m:.3f}   cold/warm-disk {c / w:.1f}x"
        )
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
