"""What the insight views cost: on the 1,000-image Kaggle sample and on 25,000 images.

    python -m bench.bench_insight [--sample ../shared/data/kaggle-sample] [--repeat 3] [--skip-25k]

For each size, with the features already in the disk cache (as on the page after the
first training):
1. the worker's share: train_folder with and without the few numbers the views need (the
   test images' scores, per colour bin the images with most of it), and how many bytes
   they add to the run the worker sends back;
2. the server's share, per rerun of the results (what the page computes and draws for the
   new views): the epoch replay, weights, the colour gallery, per-image losses, top losses,
   their figures, the thumbnails (cold and remembered);
3. the buttons, in the worker's place (features from the disk cache, then the fits): 5 and
   10 split seeds of the five models, and the alpha sweep;
4. Classify: one upload's waterfall (score_terms + figure).
And on the sample, the Train page itself in AppTest: a rerun of the results (the epoch
slider moved), the whole page. The 25,000 images are hard links to the sample's files in a
temporary data folder (bench/bench_train.py's link_images), so every one is decoded
once, into a temporary cache. Prints figures, asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import pickle
import statistics
import sys
import tempfile
import time
from pathlib import Path

from bench.bench_train import link_images

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_SAMPLE = ROOT.parent / "shared" / "data" / "kaggle-sample"


def best(fn, repeat: int) -> tuple[float, object]:
    """The fastest of `repeat` calls (a shared machine: the least disturbed), and its result."""
    times, out = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return min(times), out


def page_side(run) -> dict[str, float]:
    """One rerun's work for the new views (no Streamlit: the core calls and figures)."""
    from core import paths
    from core.charts import insight as charts
    from core.images import file_thumbnail
    from core.learn import insight

    post, bins = run.post, run.config.bins
    out = {}
    t0 = time.perf_counter()
    view = insight.at_epoch(post, run.curves, run.config.epochs // 2)
    vector = insight.weight_vector(view.coef, view.intercept, post.classes, 0)
    charts.weights_figure(vector, bins, vector.positive[0].index).to_dict()
    found = insight.images_with_colour(post, run.colours, vector.positive[0].index, 0)
    out["replay + weights + colour gallery"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    losses = insight.image_losses(post)
    insight.test_log_loss(post)
    insight.loss_sentence(losses)
    charts.loss_distribution_figure(losses).to_dict()
    costly = insight.top_losses(post, losses)
    out["losses + log_loss + figure + top losses"] = time.perf_counter() - t0
    rows = [img.row for img in found] + [c.row for c in costly]
    from core.images.thumbnail import _file_thumbnail

    _file_thumbnail.cache_clear()  # the first rerun after a training decodes them
    for label in (f"{len(rows)} thumbnails, first time", f"{len(rows)} thumbnails, remembered"):
        t0 = time.perf_counter()
        for r in rows:
            file_thumbnail(post.paths[r], 110, within=paths.data_dir())
        out[label] = time.perf_counter() - t0
    return out


def measure(folder: Path, repeat: int, cache: Path) -> None:
    from core.charts.insight import waterfall_figure
    from core.learn import insight, train
    from core.learn.config import TrainConfig
    from core.learn.regularisation import sweep_folder
    from core.learn.seeds import seeds_folder

    config = TrainConfig()
    within = folder.parent
    t0 = time.perf_counter()
    run = train.train_folder(folder, config, dataset_name="bench", cache_dir=cache, within=within)
    n = len(run.post.y)
    print(
        f"\n== {n:,} images ({run.post.n_test:,} test), first training (features extracted): "
        f"{time.perf_counter() - t0:.1f} s"
    )

    def train_once(with_views: bool):
        train._MEMORY.clear()  # a new training, features from the disk cache
        if with_views:
            return train.train_folder(folder, config, dataset_name="bench", cache_dir=cache, within=within)
        real = train.test_colours
        train.test_colours = lambda X: None  # the run without the colour gallery's numbers
        try:
            return train.train_folder(folder, config, dataset_name="bench", cache_dir=cache, within=within)
        finally:
            train.test_colours = real

    turns = {True: [], False: []}
    for _ in range(repeat):  # taking turns: a busy moment of a shared machine hits both
        for with_views in (True, False):
            seconds, done = best(lambda: train_once(with_views), 1)  # noqa: B023 - called at once
            turns[with_views].append(seconds)
            run = done if with_views else run
    with_s, without_s = min(turns[True]), min(turns[False])
    extra = len(pickle.dumps(run.colours)) + run.post.scores_test.nbytes
    X_test = run_features(folder, run, cache)[run.post.test_idx]
    colours_s, _ = best(lambda: insight.test_colours(X_test), repeat)
    print(
        f"worker: train_folder, warm cache {with_s:.3f} s with the views' numbers, {without_s:.3f} s without "
        f"(test_colours itself {1000 * colours_s:.1f} ms); they add {extra / 1024:.0f} KiB to the "
        f"{len(pickle.dumps(run)) / 2**20:.1f} MiB run sent back"
    )

    side = [page_side(run) for _ in range(repeat)]
    print("server, per rerun of the results (best of runs):")
    for key in side[0]:
        print(f"  {key:42s} {1000 * min(s[key] for s in side):8.1f} ms")

    for label, call in (
        (
            "5 split seeds x 5 models",
            lambda: seeds_folder(folder, run.post, 5, cache_dir=cache, within=within),
        ),
        (
            "10 split seeds x 5 models",
            lambda: seeds_folder(folder, run.post, 10, cache_dir=cache, within=within),
        ),
        ("alpha sweep (6 alphas)", lambda: sweep_folder(folder, run.post, cache_dir=cache, within=within)),
    ):
        seconds, _ = best(call, 1)
        print(f"button: {label:28s} {seconds:7.2f} s")
    model = run.post.model
    hist = run_features(folder, run, cache)[run.post.test_idx[0]]
    seconds, _ = best(lambda: waterfall_figure(insight.score_terms(model, hist, 0), model.bins).to_dict(), 20)
    print(f"classify: one upload's waterfall (terms + figure) {1000 * seconds:.2f} ms")


def run_features(folder, run, cache):
    from core.learn.beyond import run_features as features

    return features(folder, run.post, cache_dir=cache, within=folder.parent)


def apptest_rerun(name: str, repeat: int) -> None:
    """The Train page in AppTest on the sample: Train, then reruns with the results on show."""
    from harness.apptest import open_page

    at = open_page("pages/train.py", timeout=600)
    box = at.selectbox(key="dataset")
    box.select_index([str(o).startswith(name) for o in box.options].index(True)).run()
    at.button(key="train").click().run()
    times = []
    for k in range(repeat * 2):
        t0 = time.perf_counter()
        at.slider(key="replay_epoch").set_value(1 + k % 9).run()
        times.append(time.perf_counter() - t0)
    assert not at.exception, [e.value for e in at.exception]
    print(
        f"\nAppTest, the whole Train page rerun with the results on show (epoch slider moved): "
        f"median {1000 * statistics.median(times):.0f} ms, best {1000 * min(times):.0f} ms"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sample", type=Path, default=Path(os.environ.get("SOFTMAX_SAMPLE_DIR", DEFAULT_SAMPLE)))
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--skip-25k", action="store_true")
    args = ap.parse_args()
    if not args.sample.is_dir():
        sys.exit(f"sample not found: {args.sample}")
    with tempfile.TemporaryDirectory(prefix="bench-insight-") as tmp:
        data = Path(tmp) / "data"
        os.environ["SOFTMAX_DATA_DIR"] = str(data)
        os.environ["SOFTMAX_CACHE_DIR"] = str(Path(tmp) / "cache")
        os.environ.setdefault("SOFTMAX_TRAIN_WORKERS", "0")  # AppTest: the page's own thread
        print(f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f}")
        sample = data / "kaggle-sample"
        link_images(args.sample, sample, 1000)
        measure(sample, args.repeat, Path(tmp) / "cache")
        apptest_rerun("kaggle-sample", args.repeat)
        if not args.skip_25k:
            big = data / "links-25000"
            link_images(args.sample, big, 25_000)
            measure(big, args.repeat, Path(tmp) / "cache")
            print(
                "(25,000 hard links repeat each real image 25 times: times only, the accuracies mean nothing)"
            )


if __name__ == "__main__":
    main()
