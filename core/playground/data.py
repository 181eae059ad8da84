"""The Playground's points: seeded presets on a square plane, and the edits a user makes.

A point is (x1, x2, class). Presets are generated from (preset, classes, points per
class, seed) alone, so a link that names those four reproduces the data exactly;
coordinates are rounded to 2 decimals when made, so an edited copy of a preset (which
the link then carries point by point) starts from exactly the same numbers.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

EXTENT = 3.0  # the plane is [-EXTENT, EXTENT] squared: points, regions and clicks all live in it
MIN_CLASSES, MAX_CLASSES = 2, 5  # 5 colours a student can tell apart; Explain takes 2..10
MAX_PER_CLASS = 60  # 5 classes x 60 = 300 points: the size the speed target is set for
MAX_POINTS = 400  # a preset's 300 plus room to add points by hand; bounds the link too
DECIMALS = 2  # a hundredth of a 6-wide plane is finer than a click can place

# Colour names double as class names: the plot, the tables and Explain all say "blue".
CLASS_NAMES = ("blue", "orange", "green", "red", "purple")

Point = tuple[float, float, int]


@dataclass(frozen=True)
class Preset:
    label: str
    separable: bool  # can some line (K lines) classify every point? (what the preset teaches)
    fixed_classes: int | None = None  # XOR only has two


PRESETS = {
    "blobs": Preset("Separated blobs", True),
    "overlap": Preset("Overlapping blobs", False),
    "xor": Preset("XOR (no line separates it)", False, fixed_classes=2),
    "rings": Preset("Rings (no line separates them)", False),
    "spiral": Preset("Spiral arms (no line separates them)", False),
}


@dataclass(frozen=True)
class Points:
    X: np.ndarray  # (n, 2) float64 coordinates
    y: np.ndarray  # (n,) intp true class of each point

    def __len__(self) -> int:
        return len(self.y)


def as_points(points: tuple[Point, ...]) -> Points:
    X = np.array([p[:2] for p in points], dtype=np.float64).reshape(-1, 2)  # (n, 2)
    y = np.array([p[2] for p in points], dtype=np.intp)  # (n,)
    return Points(X, y)


def classes_for(preset: str, k: int) -> int:
    """The number of classes a preset is drawn with (XOR is always 2)."""
    fixed = PRESETS[preset].fixed_classes
    return fixed if fixed else int(min(max(k, MIN_CLASSES), MAX_CLASSES))


@lru_cache(maxsize=64)
def make_points(preset: str, k: int, per_class: int, seed: int) -> tuple[Point, ...]:
    """The preset's points, class by class; the same arguments give the same points."""
    if preset not in PRESETS:
        raise ValueError(f"unknown preset {preset!r}; choose from {sorted(PRESETS)}")
    if not 1 <= per_class <= MAX_PER_CLASS:
        raise ValueError(f"points per class must be 1..{MAX_PER_CLASS}, got {per_class}")
    k = classes_for(preset, k)
    rng = np.random.default_rng([int(seed), list(PRESETS).index(preset), k])
    X = _DRAW[preset](rng, k, per_class)  # (k * per_class, 2)
    X = np.round(np.clip(X, -EXTENT + 0.05, EXTENT - 0.05), DECIMALS)
    y = np.repeat(np.arange(k), per_class)  # (k * per_class,)
    return tuple((float(a), float(b), int(c)) for (a, b), c in zip(X, y))


def _around_circle(rng, k: int, n: int, radius: float, spread: float) -> np.ndarray:
    angles = 2 * np.pi * np.arange(k) / k + np.pi / 2  # (k,) the first class on top
    centres = radius * np.stack([np.cos(angles), np.sin(angles)], axis=1)  # (k, 2)
    return np.repeat(centres, n, axis=0) + rng.normal(0, spread, (k * n, 2))


def _blobs(rng, k: int, n: int) -> np.ndarray:
    return _around_circle(rng, k, n, radius=1.8, spread=0.3)


def _overlap(rng, k: int, n: int) -> np.ndarray:
    return _around_circle(rng, k, n, radius=0.9, spread=0.7)


def _xor(rng, k: int, n: int) -> np.ndarray:
    # class 0 in the (+, +) and (-, -) corners, class 1 in the other two
    corners = np.array([[1, 1], [-1, -1], [1, -1], [-1, 1]], dtype=float) * 1.3  # (4, 2)
    which = np.concatenate([np.arange(n) % 2, 2 + np.arange(n) % 2])  # (2n,) corner of each point
    return corners[which] + rng.normal(0, 0.35, (2 * n, 2))


def _rings(rng, k: int, n: int) -> np.ndarray:
    radii = np.repeat(0.35 + 2.25 * np.arange(k) / (k - 1), n)  # (k n,) class 0 in the middle
    angle = rng.uniform(0, 2 * np.pi, k * n)
    r = radii + rng.normal(0, 0.1, k * n)
    return np.stack([r * np.cos(angle), r * np.sin(angle)], axis=1)


def _spiral(rng, k: int, n: int) -> np.ndarray:
    # the CS231n notes' spiral: each class an arm, its angle growing with the radius
    r = np.tile(np.linspace(0.15, 1.0, n), k) * 2.6  # (k n,)
    arm = np.repeat(np.arange(k), n)
    t = arm * 2 * np.pi / k + r * 1.6 + rng.normal(0, 0.12, k * n)
    return np.stack([r * np.cos(t), r * np.sin(t)], axis=1)


_DRAW = {"blobs": _blobs, "overlap": _overlap, "xor": _xor, "rings": _rings, "spiral": _spiral}


# ---------------------------------------------------------------- edits
# Each returns a new tuple of points (the state is frozen), or raises ValueError saying
# why not; coordinates are clamped to the plane and rounded as a preset's are.


def _place(x1: float, x2: float) -> tuple[float, float]:
    return tuple(round(float(min(max(v, -EXTENT), EXTENT)), DECIMALS) for v in (x1, x2))


def _check_index(points: tuple[Point, ...], i: int) -> None:
    if not 0 <= i < len(points):
        raise ValueError(f"there is no point #{i + 1} (the data has {len(points)})")


def add_point(points: tuple[Point, ...], x1: float, x2: float, cls: int) -> tuple[Point, ...]:
    if len(points) >= MAX_POINTS:
        raise ValueError(f"the plane holds at most {MAX_POINTS} points; remove one first")
    return (*points, (*_place(x1, x2), int(cls)))


def move_point(points: tuple[Point, ...], i: int, x1: float, x2: float, cls: int) -> tuple[Point, ...]:
    _check_index(points, i)
    return (*points[:i], (*_place(x1, x2), int(cls)), *points[i + 1 :])


def remove_point(points: tuple[Point, ...], i: int) -> tuple[Point, ...]:
    _check_index(points, i)
    if len(points) == 1:
        raise ValueError("the data loss is a mean over the points: keep at least one")
    return (*points[:i], *points[i + 1 :])
