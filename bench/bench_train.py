"""Time from clicking Train to seeing the report, on the real Kaggle sample.

    python bench/bench_train.py [--sample ../shared/data/kaggle-sample] [--repeat 3]

Two measurements, each cold (empty feature cache) and warm:
1. the core calls the page makes (list, fingerprint, extract, train log loss + hinge,
   learning curves), warm = features from the disk cache (an app restart);
2. the page itself in AppTest: click Train, rerun until the report is there; warm disk =
   a new session after the in-memory caches are cleared, warm memory = Train again.
The images are copied to a temporary data dir (never into the repo) because the app only
reads datasets inside its data dir. Prints figures and ratios; asserts nothing.
"""

from __future__ import annotations

import argparse
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
    """The steps of core.learn.train.train_folder (what the page's worker runs), timed."""
    from core.dataset import load_dataset
    from core.learn.features import dataset_features
    from core.learn.train import train_arrays

    t0 = time.perf_counter()
    ds = load_dataset(root, within=root.parent)
    t1 = time.perf_counter()
    feats = dataset_features(ds, config)
    t2 = time.perf_counter()
    post = train_arrays(feats.X, feats.labels, config, paths=feats.paths, dataset_name="bench").post
    t3 = time.perf_counter()
    return {
        "list": t1 - t0,
        "features": t2 - t1,
        "train": t3 - t2,
        "total": t3 - t0,
        "n": len(feats.paths),
        "accuracy": post.accuracy,
        "post": post,
        "X": feats.X,
    }


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
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    if not args.sample.is_dir():
        sys.exit(f"sample not found: {args.sample}")
    tmp = Path(tempfile.mkdtemp(prefix="bench-train-"))
    os.environ["SOFTMAX_DATA_DIR"] = str(tmp / "data")
    try:
        data = tmp / "data" / "kaggle-sample"
        shutil.copytree(args.sample, data)
        from core.learn.beyond import beyond_the_post
        from core.learn.config import TrainConfig

        config = TrainConfig()
        print(
            f"{len(list(data.iterdir()))} images from {args.sample}, {os.cpu_count()} cores, config {config}"
        )
        print("\n-- core calls the page makes (seconds) --")
        cold, warm = [], []
        for i in range(args.repeat):
            os.environ["SOFTMAX_CACHE_DIR"] = str(tmp / f"cache-core-{i}")
            cold.append(core_click_to_report(data, config))
            warm.append(core_click_to_report(data, config))
        for label, runs in (("cold", cold), ("warm", warm)):
            med = {k: statistics.median(r[k] for r in runs) for k in ("list", "features", "train", "total")}
            print(
                f"{label}: total {med['total']:.3f}  (list {med['list']:.3f}, "
                f"features {med['features']:.3f}, train+hinge+curves {med['train']:.3f}); "
                f"{cold[0]['n'] / med['features']:,.0f} images/s"
            )
        print(
            "cold runs: "
            + ", ".join(f"{r['total']:.3f}" for r in cold)
            + "  (the first includes starting the worker processes)"
        )
        ratio = statistics.median(r["total"] for r in cold) / statistics.median(r["total"] for r in warm)
        print(f"cold / warm: {ratio:.1f}x")
        post = cold[0]["post"]
        print(f"\naccuracy (post's recipe, fast features): {post.accuracy:.1%}")
        print(post.report_text)
        for v in beyond_the_post(cold[0]["X"], post):
            print(f"  {v.name:26s} {v.accuracy:6.1%}  {v.seconds:.3f} s")
        exact = TrainConfig(fast=False)
        os.environ["SOFTMAX_CACHE_DIR"] = str(tmp / "cache-exact")
        e = core_click_to_report(data, exact)
        print(f"exact features (the post's): accuracy {e['accuracy']:.1%}, cold total {e['total']:.3f} s")

        print("\n-- the page in AppTest: click Train -> report (seconds) --")
        rows = []
        for i in range(args.repeat):
            os.environ["SOFTMAX_CACHE_DIR"] = str(tmp / f"cache-app-{i}")
            c, _ = apptest_click_to_report("kaggle-sample")
            w, at = apptest_click_to_report("kaggle-sample")
            m, _ = apptest_click_to_report("kaggle-sample", at)
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
