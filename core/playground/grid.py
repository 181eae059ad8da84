"""What the plane shows between the points: class regions, a probability map, zero lines."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from core import softmax as sm
from core.playground.data import EXTENT
from core.playground.model import Model

# Cells per side of the probability map: 6/100 = 0.06 per cell, finer than a marker, and
# the 100 x 100 grid's scores cost well under a millisecond.
RESOLUTION = 100
SQUARE = np.array([[-EXTENT, -EXTENT], [EXTENT, -EXTENT], [EXTENT, EXTENT], [-EXTENT, EXTENT]])


@dataclass(frozen=True)
class Plane:
    axis: np.ndarray  # (G,) cell centres of the probability map, the same along x1 and x2
    regions: tuple[np.ndarray, ...]  # per class, the (n, 2) corners of where it wins; (0, 2): nowhere
    probability: np.ndarray | None  # (G, G) p(shade class), or None when not asked for


def _clip(polygon: np.ndarray, a: np.ndarray, c: float) -> np.ndarray:
    """The part of a convex polygon where a . x + c >= 0 (one Sutherland-Hodgman pass)."""
    if len(polygon) == 0:
        return polygon
    f = polygon @ a + c  # (n,)
    out = []
    for i in range(len(polygon)):
        j = (i + 1) % len(polygon)
        if f[i] >= 0:
            out.append(polygon[i])
        if (f[i] < 0) != (f[j] < 0):  # the edge crosses the line: where it does
            out.append(polygon[i] + (polygon[j] - polygon[i]) * (f[i] / (f[i] - f[j])))
    return np.array(out, dtype=float).reshape(-1, 2)


def regions(model: Model) -> tuple[np.ndarray, ...]:
    """Where each class has the highest score, exactly: the plane square cut by the lines
    s_j = s_i, so each region is a convex polygon with straight edges (no grid steps).
    A tie everywhere goes to the lower index, as argmax does."""
    W, b = model.W, model.b
    out = []
    for j in range(len(b)):
        polygon = SQUARE
        for i in range(len(b)):
            if i == j:
                continue
            a, c = W[j] - W[i], b[j] - b[i]
            if not a.any() and c == 0 and i < j:
                polygon = SQUARE[:0]  # the same score everywhere: class i wins the tie
            polygon = _clip(polygon, a, c)
        out.append(polygon if len(polygon) >= 3 else SQUARE[:0])
    return tuple(out)


def plane(
    model: Model, shade: int | None = None, temperature: float = 1.0, resolution: int = RESOLUTION
) -> Plane:
    step = 2 * EXTENT / resolution
    axis = np.linspace(-EXTENT + step / 2, EXTENT - step / 2, resolution)  # (G,)
    probability = None
    if shade is not None:
        x1, x2 = np.meshgrid(axis, axis)  # (G, G) each; row r is x2 = axis[r]
        S = np.stack([x1.ravel(), x2.ravel()], axis=1) @ model.W.T + model.b  # (G*G, K)
        probability = sm.softmax_rows(S, temperature)[:, shade].reshape(resolution, resolution)  # (G, G)
    return Plane(axis, regions(model), probability)


@dataclass(frozen=True)
class ZeroLine:
    """Where one class's score w . x + b is 0, inside the plane, and which side is positive."""

    start: tuple[float, float]
    end: tuple[float, float]
    normal: tuple[float, float]  # w / |w|: the score grows that way


def zero_line(w: np.ndarray, b: float, extent: float = EXTENT) -> ZeroLine | None:
    """The segment of w1 x1 + w2 x2 + b = 0 inside the square, or None if it misses it
    (or w = 0: then the score is b everywhere and there is no line)."""
    norm = float(np.hypot(*w))
    if norm < 1e-12:
        return None
    n = np.asarray(w, dtype=float) / norm  # (2,) unit normal
    foot = -b / norm * n  # (2,) the line's point nearest the origin
    d = np.array([-n[1], n[0]])  # (2,) along the line
    # Clip the line foot + t d to |x| <= extent, one axis at a time (Liang-Barsky).
    lo, hi = -np.inf, np.inf
    for axis in range(2):
        if abs(d[axis]) < 1e-12:
            if abs(foot[axis]) > extent:
                return None
            continue
        t1, t2 = sorted(((-extent - foot[axis]) / d[axis], (extent - foot[axis]) / d[axis]))
        lo, hi = max(lo, t1), min(hi, t2)
    if hi - lo < 1e-9:
        return None
    a, z = foot + lo * d, foot + hi * d
    return ZeroLine((float(a[0]), float(a[1])), (float(z[0]), float(z[1])), (float(n[0]), float(n[1])))
