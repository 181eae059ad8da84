"""The post's command line, on today's libraries.

    python softmax.py --dataset kaggle_dogs_vs_cats/train

describes every image with the post's 8x8x8 HSV colour histogram, splits 75/25
(random_state=42), trains SGDClassifier(loss="log_loss", random_state=967) for 10
epochs, prints the classification report, then 5 random training images with each
class's probability and the actual label, as the post does. Unlike the post's
`(catProb, dogProb) = ...` line, it works for any number of classes.
"""

from __future__ import annotations

import argparse
import sys

import numpy as np

from core.dataset import DatasetError, load_dataset
from core.features import extract_features
from core.learn.config import TrainConfig, TrainingError
from core.learn.seeds import SOFTMAX, SVM, VARIANTS, seed_spread
from core.learn.train import check_labels, train_arrays

MIN_IMAGES = 8  # fewer than this and a 75/25 split leaves nothing to learn or test


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="softmax.py",
        description="Train the post's Softmax classifier on colour histograms of an image folder.",
        epilog="Folder layouts: cat.0.jpg files (Kaggle), PetImages/Cat|Dog, or one folder per class.",
    )
    p.add_argument("-d", "--dataset", required=True, help="folder of images")
    p.add_argument(
        "--exact",
        action="store_true",
        help="decode JPEGs at full size, so features equal the post's (slower)",
    )
    p.add_argument(
        "--bins",
        type=int,
        nargs=3,
        default=[8, 8, 8],
        metavar=("H", "S", "V"),
        help="histogram bins for hue, saturation, value (default: 8 8 8)",
    )
    p.add_argument(
        "--cache-dir",
        default=None,
        help="feature cache folder (default: the user cache; env SOFTMAX_CACHE_DIR)",
    )
    p.add_argument("--no-cache", action="store_true", help="describe every image again")
    p.add_argument(
        "--dask",
        default=None,
        metavar="ADDRESS",
        help="describe the images on a Dask distributed cluster, e.g. tcp://HOST:8786 (its workers "
        "must see the images at the same paths; env SOFTMAX_DASK_SCHEDULER)",
    )
    p.add_argument(
        "--loss",
        choices=["log_loss", "hinge"],
        default="log_loss",
        help="log_loss: Softmax/logistic (the post); hinge: the Linear SVM it compares with",
    )
    p.add_argument(
        "--seed",
        type=int,
        default=None,
        help="seed for picking the 5 sample images (default: different each run)",
    )
    p.add_argument(
        "--seeds",
        type=int,
        default=0,
        metavar="N",
        help="then train both losses on N splits (split seed 42 + k, SGD seed unchanged) and print "
        "each accuracy, their mean and standard deviation: how much one split's number moves",
    )
    return p.parse_args(argv)


class ProgressBar:
    """A plain progress bar on stderr: redrawn in place on a terminal, a few lines otherwise."""

    def __init__(self, stream=None, width=30):
        self.stream, self.width = stream or sys.stderr, width
        self.tty = hasattr(self.stream, "isatty") and self.stream.isatty()
        self._last_decile = -1

    def __call__(self, done: int, total: int) -> None:
        frac = done / total if total else 1.0
        if self.tty:
            filled = int(frac * self.width)
            bar = "#" * filled + "." * (self.width - filled)
            end = "\n" if done >= total else ""
            self.stream.write(f"\r[INFO] describing images [{bar}] {done}/{total}{end}")
        elif int(frac * 10) > self._last_decile:
            self._last_decile = int(frac * 10)
            self.stream.write(f"[INFO] described {done}/{total}\n")
        self.stream.flush()


def describe_dataset(args):
    dataset = load_dataset(args.dataset)
    print(
        f"[INFO] describing images... ({len(dataset.paths)} in {dataset.root}, layout {dataset.layout})",
        file=sys.stderr,
    )
    cache_dir = False if args.no_cache else args.cache_dir
    feats = extract_features(
        dataset.paths,
        bins=tuple(args.bins),
        fast=not args.exact,
        cache_dir=cache_dir,
        progress=ProgressBar(),
        refs=dataset.refs,
        scheduler=args.dask,
    )
    skipped = dataset.skipped + feats.skipped
    if skipped:
        print(
            f"[INFO] skipped {len(skipped)} unreadable files, e.g. {skipped[0][0]}: {skipped[0][1]}",
            file=sys.stderr,
        )
    label_of = dict(zip(dataset.paths, dataset.labels))
    labels = [label_of[p] for p in feats.paths]
    return feats.X, labels


def train_and_report(data, labels, loss: str, seed: int | None, out=None, bins=(8, 8, 8), fast=True) -> None:
    """Split, fit and report as the post's script does, through the app's own training road."""
    out = out or sys.stdout
    print("[INFO] constructing training/testing split...", file=sys.stderr)
    print(
        f"[INFO] training {'Softmax' if loss == 'log_loss' else 'Linear SVM'} classifier...", file=sys.stderr
    )
    config = TrainConfig(bins=tuple(bins), fast=fast, loss=loss)
    try:
        result = train_arrays(data, labels, config, with_hinge=False, with_curves=False).post
    except TrainingError as err:
        raise DatasetError(str(err)) from None
    print("[INFO] evaluating classifier...", file=sys.stderr)
    print(result.report_text, file=out)
    # As the post: show a few training images to see what the model learned.
    rng = np.random.default_rng(seed)
    for i in rng.choice(np.arange(result.n_train), size=5):
        row = int(result.train_idx[i])
        print(_sample_line(result, np.asarray(data)[row], result.classes[result.y[row]], loss), file=out)
    if loss == "log_loss" and len(result.classes) > 2:
        print(
            "[NOTE] with more than two classes SGDClassifier's probabilities are one-vs-rest "
            "scores normalised to sum to 1, not a softmax.",
            file=out,
        )


def _sample_line(result, hist, actual: str, loss: str) -> str:
    model, classes = result.model, result.classes
    if loss == "hinge":  # an SVM has no probabilities: show its raw scores instead
        scores = np.atleast_1d(model.decision(hist)[0])
        if len(classes) == 2:  # one score: the sign picks the class
            return f"score={scores[0]:+.3f} ({classes[1]} if > 0), actual={actual}"
        parts = [f"{c}={s:+.3f}" for c, s in zip(classes, scores)]
        return "scores: " + ", ".join(parts) + f", actual={actual}"
    probs = model.predict_proba(hist)[0]
    parts = [f"{c}={p * 100:.1f}%" for c, p in zip(classes, probs)]
    return ", ".join(parts) + f", actual={actual}"


def print_seeds(data, labels, n: int, out=None, bins=(8, 8, 8), fast=True) -> None:
    """Both losses on n splits: each split's accuracy, then the mean and standard deviation."""
    out = out or sys.stdout
    print(f"[INFO] training both classifiers on {n} splits...", file=sys.stderr)
    config = TrainConfig(bins=tuple(bins), fast=fast)
    spread = seed_spread(data, check_labels(labels)[1], config, n, variants=VARIANTS[:2])
    softmax, svm = spread.of(SOFTMAX), spread.of(SVM)
    print(
        f"\naccuracy on {n} splits (split seed 42 + k, SGD seed {config.sgd_seed}, "
        f"{spread.n_test} test images each):",
        file=out,
    )
    print(f"{'split seed':>10}  {'softmax':>8}  {'linear SVM':>10}", file=out)
    for seed, a, b in zip(spread.seeds, softmax.values, svm.values):
        print(f"{seed:>10}  {100 * a:7.2f}%  {100 * b:9.2f}%", file=out)
    print(f"{'mean':>10}  {100 * softmax.mean:7.2f}%  {100 * svm.mean:9.2f}%", file=out)
    print(f"{'std':>10}  {100 * softmax.sd:7.2f}   {100 * svm.sd:9.2f}   (points, n - 1)", file=out)


def main(argv=None) -> int:
    args = parse_args(argv)
    try:
        data, labels = describe_dataset(args)
        if len(labels) < MIN_IMAGES:
            raise DatasetError(f"only {len(labels)} images could be read: need at least {MIN_IMAGES}")
        if len(set(labels)) < 2:
            raise DatasetError(f"the readable images are all of one class ('{labels[0]}')")
        train_and_report(data, labels, args.loss, args.seed, bins=args.bins, fast=not args.exact)
        if args.seeds > 0:
            print_seeds(data, labels, args.seeds, bins=args.bins, fast=not args.exact)
    except (DatasetError, ValueError, OSError) as err:
        first_line = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        print(f"softmax.py: error: {first_line}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("\nsoftmax.py: interrupted (features described so far are cached)", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
