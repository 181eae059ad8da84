"""Feature extraction speed: the post's loop against extract_features, side by side.

    python bench/bench_features.py [FOLDER] [--repeats 5] [--skip-25k] [--loky]

FOLDER defaults to ../shared/data/kaggle-sample (1,000 real Kaggle JPEGs). Every file is
read once first so that all timings see a warm OS page cache (the post's loop included).
Each figure is the best of --repeats runs, the contenders taking turns (on a shared
machine the best run is the least disturbed, and turns spread any background load over
all of them); each cold run starts from a new, empty cache folder. "first cold"
is the very first extract_features call of the process (with --loky, also the first call
on loky processes, which includes starting them; later calls reuse them).

The 25,000-image run points 25,000 hard links (symlinks if the temp folder is on another
filesystem) at the sample's files and extracts them all, cold then warm, in a child
process, measuring the peak resident memory of that process and its worker processes
(VmHWM from /proc). Nothing is de-duplicated: all 25,000 are decoded in the cold run, and
the warm run loads 25,000 cached rows.

Targets (2 cores, real Kaggle JPEGs): fast cold >= 3x the post's loop, exact cold >= 1.7x,
warm >= 50x, peak memory for 25,000 images < 1 GiB.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np

import core.learn.features as features
from core.dataset import load_dataset
from core.features import extract_features

REPO = Path(__file__).resolve().parents[1]

DEFAULT_FOLDER = REPO.parent / "shared" / "data" / "kaggle-sample"
TARGETS = {"fast cold": 3.0, "exact cold": 1.7, "warm (fast)": 50.0}


# ---- the post's code, as written in the post (OpenCV 3+ branch, imutils.paths inlined) ---
def extract_color_histogram(image, bins=(8, 8, 8)):
    hsv = cv2.cvtColor(image, cv2.COLOR_BGR2HSV)
    hist = cv2.calcHist([hsv], [0, 1, 2], None, bins, [0, 180, 0, 256, 0, 256])
    cv2.normalize(hist, hist)
    return hist.flatten()


def posts_loop(imagePaths):
    data, labels = [], []
    for _i, imagePath in enumerate(imagePaths):
        image = cv2.imread(imagePath)
        label = imagePath.split(os.path.sep)[-1].split(".")[0]
        hist = extract_color_histogram(image)
        data.append(hist)
        labels.append(label)
    return np.array(data), labels


# ---- measuring -------------------------------------------------------------------------
def interleaved(repeats: int, contenders: dict) -> tuple[dict, dict]:
    """Best time of each contender, running them in turn so background load hits all alike."""
    times = {name: [] for name in contenders}
    results = {}
    for _ in range(repeats):
        for name, fn in contenders.items():
            start, cpu = time.perf_counter(), time.process_time()
            results[name] = fn()
            times[name].append((time.perf_counter() - start, time.process_time() - cpu))
    return {name: min(t) for name, t in times.items()}, results


def accuracy(X, labels) -> float:
    from sklearn.linear_model import SGDClassifier
    from sklearn.model_selection import train_test_split
    from sklearn.preprocessing import LabelEncoder

    y = LabelEncoder().fit_transform(labels)
    Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=0.25, random_state=42)
    model = SGDClassifier(loss="log_loss", random_state=967, max_iter=10, tol=None).fit(Xtr, ytr)
    return float((model.predict(Xte) == yte).mean())


def cold(paths, fast):
    with tempfile.TemporaryDirectory() as cache:
        return extract_features(paths, fast=fast, cache_dir=cache)


def with_backend(name: str, fn):
    def run():
        saved, features.BACKEND = features.BACKEND, name
        try:
            return fn()
        finally:
            features.BACKEND = saved

    return run


def run_sample(folder: Path, repeats: int, compare_loky: bool) -> dict:
    ds = load_dataset(folder)
    paths = ds.paths
    for p in paths:  # warm the OS page cache for every contender alike
        Path(p).read_bytes()
    first = {}
    start = time.perf_counter()
    cold(paths, True)
    first["first cold (fast, first call)"] = (time.perf_counter() - start, None)
    if compare_loky:
        start = time.perf_counter()
        with_backend("loky", lambda: cold(paths, True))()
        first["first cold, loky (starts workers)"] = (time.perf_counter() - start, None)
    warm_cache = tempfile.mkdtemp()
    extract_features(paths, fast=True, cache_dir=warm_cache)
    contenders = {
        "post's loop": lambda: posts_loop(paths),
        "fast cold": lambda: cold(paths, True),
        "exact cold": lambda: cold(paths, False),
        "warm (fast)": lambda: extract_features(paths, cache_dir=warm_cache),
    }
    if compare_loky:
        contenders["fast cold, loky processes"] = with_backend("loky", lambda: cold(paths, True))
        contenders["exact cold, loky processes"] = with_backend("loky", lambda: cold(paths, False))
    times, res = interleaved(repeats, contenders)
    shutil.rmtree(warm_cache)
    assert res["warm (fast)"].cached == len(paths)
    X_post, labels = res["post's loop"]
    fast, exact = res["fast cold"], res["exact cold"]
    label_of = dict(zip(ds.paths, ds.labels))
    return {
        "n": len(paths),
        "times": {**first, **times},
        "exact_max_abs_diff": float(np.abs(exact.X - X_post).max()),
        "acc_post": accuracy(X_post, labels),
        "acc_exact": accuracy(exact.X, [label_of[p] for p in exact.paths]),
        "acc_fast": accuracy(fast.X, [label_of[p] for p in fast.paths]),
        "cosine_fast_exact_min": float((fast.X * exact.X).sum(axis=1).min()),
    }


# ---- 25,000 images, in a child process so its peak memory is its own -------------------
CHILD = r"""
import json, os, sys, tempfile, time
from pathlib import Path
from core.features import extract_features

def peak_kib(pid):
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return 0

def workers():
    out = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            if int(stat.read_text().rsplit(")", 1)[1].split()[1]) == os.getpid():
                out.append(int(stat.parent.name))
        except (OSError, ValueError, IndexError):
            pass
    return out

paths = json.loads(Path(sys.argv[2]).read_text())
with tempfile.TemporaryDirectory() as cache:
    t = time.perf_counter(); f = extract_features(paths, cache_dir=cache); cold = time.perf_counter() - t
    t = time.perf_counter(); w = extract_features(paths, cache_dir=cache); warm = time.perf_counter() - t
    kids = {pid: peak_kib(pid) for pid in workers()}
    print(json.dumps({"n": len(f.paths), "cached": w.cached, "cold": cold, "warm": warm,
                      "parent_kib": peak_kib(os.getpid()), "children_kib": kids}))
"""


def run_25k(folder: Path, n: int = 25_000) -> dict:
    sources = load_dataset(folder).paths
    with tempfile.TemporaryDirectory() as tmp:
        links = []
        for i in range(n):
            src = sources[i % len(sources)]
            label = os.path.basename(src).split(".")[0]
            link = os.path.join(tmp, f"{label}.{i}.jpg")
            try:
                os.link(src, link)  # a distinct path per image, as in a real folder
            except OSError:
                os.symlink(src, link)  # another filesystem: still all decoded, see above
            links.append(link)
        listing = Path(tmp) / "paths.json"
        listing.write_text(json.dumps(links))
        out = subprocess.run(
            [sys.executable, "-c", CHILD, str(REPO), str(listing)],
            capture_output=True,
            text=True,
            check=True,
            cwd=REPO,  # -c: the checkout is importable
        )
    return json.loads(out.stdout.strip().splitlines()[-1])


def report(sample: dict, big: dict | None) -> None:
    n, t = sample["n"], sample["times"]
    base, _base_cpu = t["post's loop"]
    print(f"\n{n} images, {os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f}")
    print(
        "(CPU ms/image: this process's CPU time, all its threads; n/a for loky workers. "
        "On a quiet machine, wall time ~ CPU / cores.)"
    )
    print(f"{'':36s}{'seconds':>9s}{'images/s':>10s}{'vs post':>9s}{'CPU ms/img':>12s}  target")
    for name, (secs, cpu) in t.items():
        target = TARGETS.get(name)
        mark = "" if target is None else (f">={target:g}x " + ("ok" if base / secs >= target else "MISS"))
        cpu_txt = "n/a" if cpu is None or "loky" in name else f"{cpu / n * 1000:.3f}"
        print(f"{name:36s}{secs:9.3f}{n / secs:10.0f}{base / secs:8.1f}x{cpu_txt:>12s}  {mark}")
    print(f"\nexact vs post's loop: max abs difference {sample['exact_max_abs_diff']:.1e}")
    print(f"fast vs exact histograms: lowest cosine similarity {sample['cosine_fast_exact_min']:.4f}")
    print(
        "accuracy (75/25 split, random_state 42, SGD log_loss 967, 10 epochs): "
        f"post's loop {sample['acc_post']:.3f}, exact {sample['acc_exact']:.3f}, "
        f"fast {sample['acc_fast']:.3f}"
    )
    if big:
        kids = big["children_kib"]
        total_mib = (big["parent_kib"] + sum(kids.values())) / 1024
        post_est = base / n * big["n"]  # base: the post's loop, seconds for the sample
        print(
            f"\n25,000 images (links to the sample's files, all decoded): fast cold {big['cold']:.1f} s "
            f"({big['n'] / big['cold']:.0f} images/s), warm {big['warm']:.2f} s; the post's loop, "
            f"estimated from its rate above: {post_est:.0f} s "
            f"(cold {post_est / big['cold']:.1f}x, warm {post_est / big['warm']:.0f}x)"
        )
        print(
            f"peak resident memory: this process {big['parent_kib'] / 1024:.0f} MiB + "
            f"{len(kids)} workers {sum(kids.values()) / 1024:.0f} MiB = {total_mib:.0f} MiB "
            f"(target < 1024 MiB: {'ok' if total_mib < 1024 else 'MISS'})"
        )


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("folder", nargs="?", default=str(DEFAULT_FOLDER))
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--skip-25k", action="store_true", help="skip the 25,000-image memory run")
    p.add_argument(
        "--loky",
        action="store_true",
        help="also time joblib's loky processes (the default backend is threads)",
    )
    args = p.parse_args(argv)
    sample = run_sample(Path(args.folder), args.repeats, args.loky)
    big = None if args.skip_25k else run_25k(Path(args.folder))
    report(sample, big)
    return 0


if __name__ == "__main__":
    sys.exit(main())
