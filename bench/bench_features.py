"""Feature extraction speed: the post's loop, this code and the code before, side by side.

    python -m bench.bench_features [FOLDER] [--repeats 5] [--before REV] [--skip-25k]

FOLDER defaults to ../shared/data/kaggle-sample (1,000 real Kaggle JPEGs, original size).
Every file is read once first so that all timings see a warm OS page cache (the post's
loop included).

1. Whole extractions (threads by default; "loky processes": joblib's process backend
   instead, its workers started once and reused). Two child processes stay up for the whole run, one importing this
   checkout and one a copy of revision --before (git archive into a temporary folder;
   default: the code before issue 15's changes), and take turns running each contender
   (the post's loop, fast cold, exact cold, warm): on a shared machine the turns spread
   any background load over all of them. Each figure is the best of --repeats; each cold
   run starts from a new, empty cache folder.
2. Where the time goes per image, before and after: the steps of one image (file read,
   header parse, decode, pixel-format check, HSV conversion, histogram, normalise), each
   timed alone over the sample on one thread; "cache bookkeeping and the rest" is a
   one-thread cold extraction's CPU per image minus those steps.
3. 25,000 images: hard links (symlinks across filesystems) to the sample's files, so all
   25,000 are decoded; fast and exact cold, then warm, in the two children (peak resident
   memory from /proc). Then the accuracy of every model the app trains
   (core.learn.beyond.VARIANTS) on fast and on exact features (and the fast features of
   revision --before, all at 1/2 size), mean of 5 split seeds. The
   folder repeats each real image 25 times, so a test image has copies in the training
   set: the same comparison on the 1,000 distinct images is printed beside it.

Prints figures and ratios; asserts nothing. Targets (issue 15): fast cold >= 4x the post's
loop; every model within 0.5 point of exact features.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
DEFAULT_FOLDER = REPO.parent / "shared" / "data" / "kaggle-sample"
BEFORE = "0667188"  # the last commit before issue 15's feature work
SEEDS = (42, 1, 2, 3, 4)
N_BIG = 25_000


# ---- a child process that times extractions with the code on its sys.path --------------
CHILD = r"""
import json, os, sys, tempfile, time
from pathlib import Path
import cv2, numpy as np
from core.dataset import load_dataset
from core.features import extract_features

def extract_color_histogram(image, bins=(8, 8, 8)):  # the post's code (OpenCV 3+ branch)
    hsv = cv2.cvtColor(image, cv2.COLOR_BGR2HSV)
    hist = cv2.calcHist([hsv], [0, 1, 2], None, bins, [0, 180, 0, 256, 0, 256])
    cv2.normalize(hist, hist)
    return hist.flatten()

def posts_loop(imagePaths):
    data, labels = [], []
    for imagePath in imagePaths:
        image = cv2.imread(imagePath)
        labels.append(imagePath.split(os.path.sep)[-1].split(".")[0])
        data.append(extract_color_histogram(image))
    return np.array(data), labels

def peak_kib():
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return 0

listings = {}
def paths_of(name):
    if name not in listings:
        p = Path(name)
        listings[name] = json.loads(p.read_text()) if p.suffix == ".json" else load_dataset(p).paths
    return listings[name]

def timed_steps(ref, after):
    # One image's steps, each timed (ns): as the code before did them, or as now.
    from core.images import image_size, read_file, sniff
    from core.images.decode import _REDUCED, _reduction, as_bgr8, check_pixels
    out, t = {}, time.thread_time_ns()
    data = read_file(ref)
    out["file read"], t = time.thread_time_ns() - t, time.thread_time_ns()
    if after:
        from core.images.decode import gate
        header = gate(data)
    else:
        sniff(data)
        header = image_size(data)
        check_pixels(header[1], header[2])
    out["header parse"], t = time.thread_time_ns() - t, time.thread_time_ns()
    flag = _REDUCED[_reduction(header, True, None)]
    if after:
        flag |= cv2.IMREAD_IGNORE_ORIENTATION
    image = cv2.imdecode(np.frombuffer(data, np.uint8), flag)
    out["decode"], t = time.thread_time_ns() - t, time.thread_time_ns()
    if after:
        assert image.dtype == np.uint8 and image.ndim == 3 and image.shape[2] == 3
    else:
        image = as_bgr8(image)
    out["pixel-format check"], t = time.thread_time_ns() - t, time.thread_time_ns()
    hsv = cv2.cvtColor(image, cv2.COLOR_BGR2HSV, dst=image) if after else cv2.cvtColor(image, cv2.COLOR_BGR2HSV)
    out["HSV conversion"], t = time.thread_time_ns() - t, time.thread_time_ns()
    hist = cv2.calcHist([hsv], [0, 1, 2], None, [8, 8, 8], [0, 180, 0, 256, 0, 256])
    out["histogram"], t = time.thread_time_ns() - t, time.thread_time_ns()
    cv2.normalize(hist, hist)
    hist.reshape(-1) if after else hist.flatten()
    out["normalise"] = time.thread_time_ns() - t
    return out

def steps(paths, after):
    # Microseconds per image for each step on one thread, and a one-thread cold
    # extraction's CPU per image (the difference: cache bookkeeping and the rest).
    from core.images import stat_ref
    cv2.setNumThreads(1)
    refs = [stat_ref(p) for p in paths]
    total = {}
    for ref in refs:
        for k, ns in timed_steps(ref, after).items():
            total[k] = total.get(k, 0) + ns
    from core.images import describe
    c = time.process_time()
    for ref in refs:
        describe(ref, fast=True)
    plain = time.process_time() - c
    with tempfile.TemporaryDirectory() as cache:
        c = time.process_time()
        extract_features(paths, cache_dir=cache, workers=1)
        whole = time.process_time() - c
    cv2.setNumThreads(os.cpu_count())
    n = len(refs)
    return {"steps": {k: ns / n / 1000 for k, ns in total.items()}, "plain": plain / n * 1e6, "whole": whole / n * 1e6}

warm_dirs = {}
for line in sys.stdin:
    cmd = json.loads(line)
    paths, what = paths_of(cmd["paths"]), cmd["what"]
    t, c = time.perf_counter(), time.process_time()
    out = {}
    if what == "post":
        X, _ = posts_loop(paths)
    elif what.startswith("steps"):
        out = steps(paths, what == "steps after")
    elif what == "warm":
        if cmd["paths"] not in warm_dirs:
            warm_dirs[cmd["paths"]] = tempfile.mkdtemp()
            extract_features(paths, cache_dir=warm_dirs[cmd["paths"]])
            t, c = time.perf_counter(), time.process_time()
        f = extract_features(paths, cache_dir=warm_dirs[cmd["paths"]])
        out["cached"] = f.cached
    else:
        import core.learn.features as features
        features.BACKEND = "loky" if what.endswith("loky") else "threading"
        with tempfile.TemporaryDirectory() as cache:
            f = extract_features(paths, fast=what.startswith("fast"), cache_dir=cache,
                                 workers=cmd.get("workers"))
        if cmd.get("save"):
            np.save(cmd["save"], f.X)
            Path(cmd["save"] + ".json").write_text(json.dumps(f.paths))
    out.update(wall=time.perf_counter() - t, cpu=time.process_time() - c, peak_kib=peak_kib())
    print(json.dumps(out), flush=True)
"""


class Child:
    """A long-lived python running CHILD with `root` first on its path."""

    def __init__(self, root: Path):
        env = {**os.environ, "PYTHONPATH": str(root), "SOFTMAX_TRAIN_WORKERS": "0"}
        env.pop("SOFTMAX_DASK_SCHEDULER", None)
        self.proc = subprocess.Popen(
            [sys.executable, "-c", CHILD],
            cwd=root,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )

    def __call__(self, paths: str, what: str, **kw) -> dict:
        self.proc.stdin.write(json.dumps({"paths": paths, "what": what, **kw}) + "\n")
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError(f"the benchmark child died running {what}")
        return json.loads(line)

    def close(self) -> None:
        self.proc.stdin.close()
        self.proc.wait(30)


def checkout(rev: str, dest: Path) -> Path:
    """Revision rev's core/ in dest (git archive: the working tree is not touched)."""
    dest.mkdir(parents=True, exist_ok=True)
    archive = subprocess.run(["git", "archive", rev, "core"], cwd=REPO, capture_output=True, check=True)
    subprocess.run(["tar", "-x", "-C", str(dest)], input=archive.stdout, check=True)
    return dest


# ---- accuracy of every model the app trains ---------------------------------------------
def accuracies(X: np.ndarray, labels: list[str], seeds=SEEDS) -> dict[str, float]:
    """Mean test accuracy of each VARIANT over the post's split with these seeds."""
    from sklearn.model_selection import train_test_split
    from sklearn.preprocessing import LabelEncoder

    from core.learn.beyond import VARIANTS
    from core.learn.config import TrainConfig

    y = LabelEncoder().fit_transform(labels)
    X = np.asarray(X, np.float64)
    out = {}
    for name, _what, make, transform in VARIANTS:
        Z = X if transform is None else transform(X)
        accs = []
        for seed in seeds:
            tr, te = train_test_split(np.arange(len(y)), test_size=0.25, random_state=seed)
            config = TrainConfig(split_seed=seed)
            accs.append(float((make(config).fit(Z[tr], y[tr]).predict(Z[te]) == y[te]).mean()))
        out[name] = float(np.mean(accs))
    return out


def link_folder(sources: list[str], dest: Path, n: int) -> list[str]:
    links = []
    for i in range(n):
        src = sources[i % len(sources)]
        link = dest / f"{os.path.basename(src).split('.')[0]}.{i}.jpg"
        try:
            os.link(src, link)  # a distinct path per image, as in a real folder
        except OSError:
            os.symlink(src, link)  # another filesystem: still all decoded
        links.append(str(link))
    return links


def label(path: str) -> str:
    return os.path.basename(path).split(".")[0]


# ---- the run ------------------------------------------------------------------------------
def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("folder", nargs="?", default=str(DEFAULT_FOLDER))
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--before", default=BEFORE, help=f"git revision to compare with (default {BEFORE})")
    p.add_argument("--skip-25k", action="store_true", help="skip the 25,000-image run and the accuracy")
    args = p.parse_args(argv)

    from core.dataset import load_dataset

    folder = str(Path(args.folder).resolve())
    ds = load_dataset(folder)
    for path in ds.paths:  # warm the OS page cache for every contender alike
        Path(path).read_bytes()
    n = len(ds.paths)
    tmp = Path(tempfile.mkdtemp(prefix="bench-features-"))
    old = Child(checkout(args.before, tmp / "before"))
    new = Child(REPO)
    load0 = os.getloadavg()[0]
    try:
        contenders = {
            "post's loop": (new, "post"),
            "fast cold, before": (old, "fast"),
            "fast cold": (new, "fast"),
            "exact cold, before": (old, "exact"),
            "exact cold": (new, "exact"),
            "fast cold, 1 thread, before": (old, "fast", 1),
            "fast cold, 1 thread": (new, "fast", 1),
            "fast cold, 2 loky processes": (new, "fast loky"),
            "warm (fast), before": (old, "warm"),
            "warm (fast)": (new, "warm"),
        }
        times: dict[str, list[dict]] = {k: [] for k in contenders}
        for _ in range(args.repeats):
            for name, (child, what, *w) in contenders.items():
                times[name].append(child(folder, what, workers=w[0] if w else None))
        best = {k: min(v, key=lambda r: r["wall"]) for k, v in times.items()}
        load1 = os.getloadavg()[0]
        parts = {"before": [], "after": []}
        for _ in range(3):  # taking turns, as above; the best pass of each counts
            parts["before"].append(old(folder, "steps before"))
            parts["after"].append(new(folder, "steps after"))
        parts = {w: min(runs, key=lambda r: r["whole"]) for w, runs in parts.items()}
        big = None
        if not args.skip_25k:
            big = run_big(ds, tmp, old, new)
    finally:
        old.close()
        new.close()
        subprocess.run(["rm", "-rf", str(tmp)], check=False)
    report(n, best, parts, big, (load0, load1))
    return 0


def run_big(ds, tmp: Path, old: Child, new: Child) -> dict:
    links_dir = tmp / "links"
    links_dir.mkdir()
    links = link_folder(ds.paths, links_dir, N_BIG)
    listing = tmp / "paths.json"
    listing.write_text(json.dumps(links))
    out: dict = {"load": os.getloadavg()[0]}
    out["fast cold, before"] = old(str(listing), "fast", save=str(tmp / "fast-before.npy"))
    out["fast cold"] = new(str(listing), "fast", save=str(tmp / "fast.npy"))
    out["exact cold, before"] = old(str(listing), "exact")
    out["exact cold"] = new(str(listing), "exact", save=str(tmp / "exact.npy"))
    out["warm (fast), before"] = old(str(listing), "warm")
    out["warm (fast)"] = new(str(listing), "warm")
    feats = {}
    for mode in ("fast", "exact", "fast-before"):
        X = np.load(tmp / f"{mode}.npy")
        paths = json.loads((tmp / f"{mode}.npy.json").read_text())
        feats[mode] = (X, [label(q) for q in paths])
    out["acc_25k"] = {m: accuracies(X, y) for m, (X, y) in feats.items()}
    # The 1,000 distinct images: the first 1,000 links are the sample, once each.
    out["acc_1k"] = {m: accuracies(X[: len(ds.paths)], y[: len(ds.paths)]) for m, (X, y) in feats.items()}
    return out


def report(n: int, best: dict, parts: dict, big: dict | None, loads) -> None:
    base = best["post's loop"]["wall"]
    print(
        f"\n{n} original-size Kaggle JPEGs, {os.cpu_count()} cores, load average {loads[0]:.2f} -> {loads[1]:.2f}"
    )
    print("(best of the repeats; CPU ms/img: all the child's threads)")
    print(f"{'':30s}{'seconds':>9s}{'images/s':>10s}{'vs post':>9s}{'CPU ms/img':>12s}")
    for name, r in best.items():
        print(
            f"{name:30s}{r['wall']:9.3f}{n / r['wall']:10.0f}{base / r['wall']:8.2f}x{r['cpu'] / n * 1000:12.3f}"
        )
    after, before = best["fast cold"]["wall"], best["fast cold, before"]["wall"]
    print(f"fast cold: {base / after:.2f}x the post's loop (target >= 4x); before {base / before:.2f}x")

    print("\nWhere the time goes, one image on one thread (microseconds, fast mode):")
    print(f"{'':38s}{'before':>9s}{'after':>9s}")
    for step in parts["before"]["steps"]:
        print(f"  {step:36s}{parts['before']['steps'][step]:9.1f}{parts['after']['steps'][step]:9.1f}")
    plain = {w: p["plain"] for w, p in parts.items()}
    print(f"  {'describe() one image after another':36s}{plain['before']:9.1f}{plain['after']:9.1f}")
    rest = {w: p["whole"] - p["plain"] for w, p in parts.items()}
    print(f"  {'+ cache bookkeeping, batches, rows':36s}{rest['before']:9.1f}{rest['after']:9.1f}")
    whole = {w: p["whole"] for w, p in parts.items()}
    print(f"  {'= one-thread cold extraction, CPU':36s}{whole['before']:9.1f}{whole['after']:9.1f}")
    print("  (steps: thread CPU time of each, timed alone; the rows below: process CPU time of whole passes)")
    if big is None:
        return
    m = N_BIG
    post_est = base / n * m
    print(f"\n{m:,} images (links to the sample's files, all decoded), load average {big['load']:.2f}:")
    for name in (
        "fast cold, before",
        "fast cold",
        "exact cold, before",
        "exact cold",
        "warm (fast), before",
        "warm (fast)",
    ):
        r = big[name]
        print(
            f"  {name:22s}{r['wall']:8.2f} s {m / r['wall']:7.0f} images/s  {post_est / r['wall']:6.1f}x the post's "
            f"loop (est. {post_est:.0f} s)  peak memory {r['peak_kib'] / 1024:.0f} MiB"
        )
    for title, acc in (
        ("25,000 (each image 25 times)", big["acc_25k"]),
        ("1,000 distinct images", big["acc_1k"]),
    ):
        print(f"\naccuracy, mean of split seeds {SEEDS}, {title}:")
        print(
            f"  {'':28s}{'exact':>8s}{'fast':>8s}{'fast - exact':>14s}    {'before (1/2)':>12s}{'- exact':>9s}"
        )
        for name in acc["exact"]:
            e, f, b = acc["exact"][name], acc["fast"][name], acc["fast-before"][name]
            mark = "ok  " if abs(f - e) <= 0.005 else "MISS"
            print(
                f"  {name:28s}{e:8.3f}{f:8.3f}{100 * (f - e):+11.2f} pt {mark}{b:12.3f}{100 * (b - e):+8.2f} pt"
            )


if __name__ == "__main__":
    sys.exit(main())
