"""How sure the numbers are: the same experiment over several train/test splits.

One split of 1,000 images tests on 250 of them, one of 25,000 on 6,250: an accuracy
moves by a point or more with the split alone. Seed k is split seed (the run's, 42 by
default) + k; the SGD seed stays the run's, so only the split changes. Each model of
core.learn.beyond.VARIANTS is fitted on every split, and the post's claim (65% vs 64%)
is answered in words computed from the spread.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, replace

import numpy as np

from core.learn.beyond import VARIANTS, fit_variant, run_features, variant_features
from core.learn.config import POST_ACCURACY, TrainConfig
from core.learn.train import TrainResult, split_indices
from core.text import number, percent

SEED_CHOICES = (5, 10, 20)  # the page's choice: 5 is quick, 20 narrows the interval
POST_TEST_IMAGES = 6250  # the post's test set: 25% of the 25,000 Kaggle training images
SOFTMAX, SVM = VARIANTS[0][0], VARIANTS[1][0]  # the post's recipe and its Linear SVM

# Student's t, 97.5% quantile, by degrees of freedom: the 95% interval of a mean of a
# few numbers (scipy is not a runtime dependency; the tests check these against it).
_T975 = (
    12.7062, 4.3027, 3.1824, 2.7764, 2.5706, 2.4469, 2.3646, 2.3060, 2.2622, 2.2281,
    2.2010, 2.1788, 2.1604, 2.1448, 2.1314, 2.1199, 2.1098, 2.1009, 2.0930, 2.0860,
    2.0796, 2.0739, 2.0687, 2.0639, 2.0595, 2.0555, 2.0518, 2.0484, 2.0452, 2.0423,
)  # fmt: skip


def t975(df: int) -> float:
    """The 97.5% quantile of Student's t with df degrees of freedom (df >= 1)."""
    if df < 1:
        return math.nan
    if df <= len(_T975):
        return _T975[df - 1]
    z = 1.959964  # beyond 30: the Cornish-Fisher expansion, within 1e-4 of the exact value
    return z + (z**3 + z) / (4 * df) + (5 * z**5 + 16 * z**3 + 3 * z) / (96 * df**2)


@dataclass(frozen=True, eq=False)
class Spread:
    """One number measured on every split: its mean, spread and a 95% interval."""

    name: str
    what: str
    values: np.ndarray  # (S,) one per split seed
    bounds: tuple[float, float] = (0.0, 1.0)  # what the number can be: an accuracy, 0 to 100%

    @property
    def mean(self) -> float:
        return float(self.values.mean())

    @property
    def sd(self) -> float:
        """Standard deviation over the splits (n - 1): how far one split moves."""
        return float(self.values.std(ddof=1)) if len(self.values) > 1 else 0.0

    @property
    def interval(self) -> tuple[float, float]:
        """95% interval of the mean (Student's t): where the average over all splits lies,
        within the bounds (a few wild splits must not promise an accuracy above 100%)."""
        n = len(self.values)
        half = t975(n - 1) * self.sd / math.sqrt(n) if n > 1 else math.nan
        lo, hi = self.bounds
        return max(self.mean - half, lo), min(self.mean + half, hi)

    @property
    def low(self) -> float:
        return self.interval[0]

    @property
    def high(self) -> float:
        return self.interval[1]


@dataclass(frozen=True, eq=False)
class SeedSpread:
    seeds: tuple[int, ...]  # the split seeds, in order
    n_test: int  # test images per split
    models: tuple[Spread, ...]  # accuracy of each variant, per seed
    seconds: float = 0.0

    def of(self, name: str) -> Spread:
        return next(m for m in self.models if m.name == name)

    def difference(self, a: str = SOFTMAX, b: str = SVM) -> Spread:
        """Accuracy of a minus accuracy of b on the same split, split by split."""
        return Spread(f"{a} - {b}", "paired difference", self.of(a).values - self.of(b).values, (-1.0, 1.0))


def seed_spread(X, y, config: TrainConfig, n_seeds: int, variants=VARIANTS, progress=None) -> SeedSpread:
    """Each variant's test accuracy on split seeds config.split_seed + 0 .. n_seeds - 1.
    X (n, d) as trained; y (n,) encoded labels. progress("seeds", done, total)."""
    t0 = time.perf_counter()
    X, y = np.asarray(X), np.asarray(y)
    configs = [replace(config, split_seed=config.split_seed + k) for k in range(int(n_seeds))]
    splits = [split_indices(y, cfg)[:2] for cfg in configs]
    acc = np.zeros((len(variants), len(splits)))
    total = acc.size
    for v, variant in enumerate(variants):
        Z = variant_features(variant, X)  # a feature map once, for every split
        for s, ((tr, te), cfg) in enumerate(zip(splits, configs)):
            if progress is not None:
                progress("seeds", v * len(splits) + s, total)
            acc[v, s] = fit_variant(variant, Z, y, tr, te, cfg)
    if progress is not None:
        progress("seeds", total, total)
    models = tuple(Spread(v[0], v[1], acc[i]) for i, v in enumerate(variants))
    n_test = len(splits[-1][1]) if splits else 0
    return SeedSpread(tuple(c.split_seed for c in configs), n_test, models, time.perf_counter() - t0)


def seeds_folder(
    root, result: TrainResult, n_seeds: int, *, cache_dir=None, within=None, progress=None
) -> SeedSpread:
    """seed_spread on the images `result` was trained on (features from the disk cache;
    in the worker process)."""
    X = run_features(root, result, cache_dir=cache_dir, within=within)
    return seed_spread(X, result.y, result.config, n_seeds, progress=progress)


# ---------------------------------------------------------------- the post's claim, in words


def points(x: float) -> str:
    """An accuracy difference in percentage points: 0.0123 -> '1.2'."""
    return number(100 * x, 1)


def spread_sentence(spread: SeedSpread) -> str:
    """What the splits say about the softmax and the Linear SVM on this data."""
    n = len(spread.seeds)
    soft, svm, diff = spread.of(SOFTMAX), spread.of(SVM), spread.difference()
    if n < 2:
        return "One split says nothing about the spread: choose several seeds."
    ahead = int((diff.values > 0).sum())
    ties = int((diff.values == 0).sum())
    lo, hi = diff.interval
    text = (
        f"Over {n} splits ({spread.n_test:,} test images each), the softmax scores {points(soft.mean)}% "
        f"on average (one split moves it by {points(soft.sd)} points, standard deviation) and the "
        f"Linear SVM {points(svm.mean)}% ({points(svm.sd)} points). The softmax is ahead on {ahead} "
        f"of {n} splits{f' (level on {ties})' if ties else ''}, by {points(diff.mean)} points on "
        f"average, 95% interval {points(lo)} to {points(hi)}: "
    )
    if lo > 0:
        return text + "the interval excludes 0, so on this data the softmax is really the better of the two."
    if hi < 0:
        return (
            text + "the interval excludes 0, so on this data the Linear SVM is really the better of the two."
        )
    return text + "the interval includes 0, so on this data the two cannot be told apart."


def verdict(diff: Spread) -> str:
    """A paired difference in words: its 95% interval above 0, below 0, or across it."""
    lo, hi = diff.interval
    return "better" if lo > 0 else "worse" if hi < 0 else "no clear difference"


def variants_sentence(spread: SeedSpread) -> str:
    """Each other model against the post's recipe, split by split, in words."""
    if len(spread.seeds) < 2:
        return ""
    parts = []
    for m in spread.models:
        if m.name == SOFTMAX:
            continue
        d = spread.difference(m.name, SOFTMAX)
        lo, hi = (f"{'+' if x > 0 else ''}{points(x)}" for x in d.interval)
        mean = f"{'+' if d.mean > 0 else ''}{points(d.mean)}"
        parts.append(f"{m.name} {mean} points (95% interval {lo} to {hi}), {verdict(d)}")
    return "Against the post's recipe on the same splits: " + "; ".join(parts) + "."


def claim_sentence(spread: SeedSpread) -> str:
    """Is the post's 65% vs 64% a difference or noise? Answered from these splits' spread."""
    if len(spread.seeds) < 2:
        return ""
    diff = spread.difference()
    gap = POST_ACCURACY["softmax"] - POST_ACCURACY["svm"]
    # A split's accuracy is a mean over its test images: its spread shrinks as 1/sqrt(n_test).
    at_post = diff.sd * math.sqrt(spread.n_test / POST_TEST_IMAGES)
    text = (
        f"The post's {points(gap)}-point gap ({percent(POST_ACCURACY['softmax'], 0)} vs {percent(POST_ACCURACY['svm'], 0)}) "
        f"comes from one split of {POST_TEST_IMAGES:,} test images. Here the gap itself moves by "
        f"{points(diff.sd)} points from split to split; scaled to {POST_TEST_IMAGES:,} test images "
        f"(a spread shrinks as 1/√n) that is about {points(at_post)} points, "
    )
    if at_post <= 0:
        return text + "so these splits show no spread to weigh the post's gap against."
    ratio = gap / at_post
    verdict = (
        "within the noise of a single split: its one split cannot show that the softmax is better"
        if ratio < 2
        else "more than the noise of a single split: likely a real, if small, difference"
    )
    return text + f"so the post's gap is {number(ratio, 1)} such standard deviations, {verdict}."
