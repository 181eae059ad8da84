"""The Playground's whole state <-> URL query parameters (strings).

Query parameters (all optional; a missing one takes the default):

    data     preset: blobs, overlap, xor, rings or spiral
    k        number of classes, 2..5 (xor is always 2)
    n        points per class, 1..60
    seed     the preset's random seed, 0..999999
    points   only once points were added, moved or removed: every point as
             ``x1,x2,class`` joined by ``;`` (class 0-based), e.g. ``1.2,-0.5,0;0.3,2,1``
    W        K rows of two weights joined by ``;``: ``1,2;2,-4;3,-1``
    b        K biases: ``0,0.5,-0.5``
    loss     cross-entropy or hinge
    lambda   regularisation strength, 0..10
    lr       learning rate, 0.0001..10
    T        softmax temperature, 0.05..10
    steps    how many steps "Run" takes, 1..1000
    shade    a class name (blue, orange...) to shade its probability; absent: the regions

None of these names is one of the Explain page's (classes, scores, target, base,
temperature), so a link never means something on the wrong page.

`decode_state` never raises: a broken or hostile value is replaced by the default or
clamped into range, and a message says what was changed; every value's length is
bounded before it is parsed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace

from core.playground.data import (
    CLASS_NAMES,
    EXTENT,
    MAX_CLASSES,
    MAX_PER_CLASS,
    MAX_POINTS,
    MIN_CLASSES,
    PRESETS,
    Point,
    classes_for,
    make_points,
)
from core.playground.model import LOSS_LABELS, WEIGHT_LIMIT, initial_model
from core.text import finite_number, md, number

PARAMS = ("data", "k", "n", "seed", "points", "W", "b", "loss", "lambda", "lr", "T", "steps", "shade")
SEED_MAX = 999_999
LAMBDA_MAX = 10.0
LR_MIN, LR_MAX = 0.0001, 10.0
STEPS_MAX = 1000  # one click's worth: 1000 steps of 300 points stay well under a second
VALUE_MAX = 400  # characters of any parameter but points (K rows of W at full precision fit)
TEMPERATURE_MIN, TEMPERATURE_MAX = 0.05, 10.0  # as on Explain: T below 0.05 is argmax already
POINTS_VALUE_MAX = MAX_POINTS * 24  # "-2.95,-2.95,4;" is 14; room for the odd longer float


@dataclass(frozen=True)
class PlaygroundState:
    preset: str = "blobs"
    k: int = 3
    per_class: int = 20
    seed: int = 1
    points: tuple[Point, ...] | None = None  # None: the preset's own points
    W: tuple[tuple[float, float], ...] = field(default=())  # (K, 2); () takes initial_model
    b: tuple[float, ...] = ()  # (K,)
    loss: str = "cross-entropy"
    lam: float = 0.01
    lr: float = 0.5
    temperature: float = 1.0
    steps: int = 100
    shade: int | None = None  # the class whose probability is shaded; None: the regions

    def __post_init__(self):
        if not self.W:  # the default weights follow the seed and the number of classes
            m = initial_model(self.seed, self.k)
            object.__setattr__(self, "W", tuple((float(a), float(c)) for a, c in m.W))
            object.__setattr__(self, "b", tuple(float(x) for x in m.b))

    @property
    def classes(self) -> tuple[str, ...]:
        return CLASS_NAMES[: self.k]

    def all_points(self) -> tuple[Point, ...]:
        if self.points is not None:
            return self.points
        return make_points(self.preset, self.k, self.per_class, self.seed)

    def with_weights(self, W, b) -> PlaygroundState:
        return replace(self, W=tuple((float(r[0]), float(r[1])) for r in W), b=tuple(float(x) for x in b))


# ---------------------------------------------------------------- encode


def _num(x: float) -> str:
    # repr is the shortest string that reads back as the same float: a link is exact
    return "0" if x == 0 else repr(float(x)).removesuffix(".0")


def encode_state(s: PlaygroundState) -> dict[str, str]:
    params = {
        "data": s.preset,
        "k": str(s.k),
        "n": str(s.per_class),
        "seed": str(s.seed),
        "W": ";".join(f"{_num(a)},{_num(c)}" for a, c in s.W),
        "b": ",".join(_num(x) for x in s.b),
        "loss": s.loss,
        "lambda": _num(s.lam),
        "lr": _num(s.lr),
        "T": _num(s.temperature),
        "steps": str(s.steps),
    }
    if s.points is not None:
        params["points"] = ";".join(f"{_num(a)},{_num(c)},{y}" for a, c, y in s.points)
    if s.shade is not None:
        params["shade"] = CLASS_NAMES[s.shade]
    return params


# ---------------------------------------------------------------- decode


def _single(params: Mapping[str, str | list[str]], name: str, errors: list[str]) -> str | None:
    value = params.get(name)
    if isinstance(value, (list, tuple)):
        value = value[-1] if value else None  # st.query_params also keeps the last
    if value is None:
        return None
    value = str(value)
    limit = POINTS_VALUE_MAX if name == "points" else VALUE_MAX
    if len(value) > limit:
        errors.append(f"The link's {name} is {len(value):,} characters long; it was ignored.")
        return None
    return value.strip()


def _int(text: str) -> int | None:
    x = finite_number(text)
    return int(x) if x is not None and x == int(x) else None


def _in_range(name: str, text: str | None, lo, hi, default, errors: list[str], *, integer: bool = False):
    if text is None:
        return default

    def shown(v) -> str:
        return str(v) if integer else number(v).rstrip("0").rstrip(".")

    x = _int(text) if integer else finite_number(text)
    if x is None:
        kind = "whole number" if integer else "number"
        errors.append(f"The link's {name} ('{md(text[:20])}') is not a {kind}; it is {shown(default)}.")
        return default
    if not lo <= x <= hi:
        clamped = min(max(x, lo), hi)
        errors.append(
            f"The link's {name} ({md(text[:20])}) is outside {shown(lo)} to {shown(hi)}; it is {shown(clamped)}."
        )
        return clamped
    return x


def _decode_points(text: str | None, k: int, errors: list[str]) -> tuple[Point, ...] | None:
    if text is None:
        return None
    items = [t for t in text.split(";") if t.strip()]
    if len(items) > MAX_POINTS:
        errors.append(f"The link lists {len(items):,} points; it kept the first {MAX_POINTS}.")
        items = items[:MAX_POINTS]
    points, bad, outside = [], 0, 0
    for item in items:
        parts = item.split(",")
        x1, x2 = (finite_number(p) for p in parts[:2]) if len(parts) == 3 else (None, None)
        cls = _int(parts[2]) if len(parts) == 3 else None
        if x1 is None or x2 is None or cls is None or not 0 <= cls < k:
            bad += 1
            continue
        if max(abs(x1), abs(x2)) > EXTENT:
            outside += 1
        points.append(tuple(round(min(max(v, -EXTENT), EXTENT), 2) for v in (x1, x2)) + (cls,))
    if bad:
        errors.append(
            f"{bad} of the link's points {'was' if bad == 1 else 'were'} not 'x1,x2,class' with a class "
            f"0..{k - 1}; {'it was' if bad == 1 else 'they were'} left out."
        )
    if outside:
        errors.append(
            f"{outside} of the link's points lay outside the plane (±{EXTENT:g}); moved to its edge."
        )
    if not points:
        errors.append("The link's points held no usable point; the preset's points are shown.")
        return None
    return tuple(points)


def _decode_model(W_text: str | None, b_text: str | None, seed: int, k: int, errors: list[str]):
    start = initial_model(seed, k)
    W = [tuple(float(v) for v in row) for row in start.W]
    b = [float(v) for v in start.b]
    if W_text is not None:
        rows = W_text.split(";")
        if len(rows) != k:
            errors.append(
                f"The link's W has {len(rows)} rows for {k} classes; missing rows are random, extra ones dropped."
            )
        for i, row in enumerate(rows[:k]):
            values = [finite_number(v) for v in row.split(",")]
            if len(values) != 2 or None in values:
                errors.append(
                    f"Row {i + 1} of the link's W ('{md(row[:30])}') is not two numbers; it is random."
                )
                continue
            W[i] = tuple(values)
    if b_text is not None:
        parts = b_text.split(",")
        if len(parts) != k:
            errors.append(
                f"The link's b has {len(parts)} numbers for {k} classes; missing ones are random, extra ones dropped."
            )
        for i, part in enumerate(parts[:k]):
            x = finite_number(part)
            if x is None:
                errors.append(f"Bias {i + 1} in the link ('{md(part[:20])}') is not a number; it is random.")
                continue
            b[i] = x
    big = sum(abs(v) > WEIGHT_LIMIT for row in W for v in row) + sum(abs(v) > WEIGHT_LIMIT for v in b)
    if big:
        errors.append(f"{big} of the link's weights lay outside ±{WEIGHT_LIMIT:g}; clamped.")

    def clamp(v: float) -> float:
        return min(max(v, -WEIGHT_LIMIT), WEIGHT_LIMIT)

    return tuple((clamp(a), clamp(c)) for a, c in W), tuple(clamp(v) for v in b)


def decode_state(params: Mapping[str, str | list[str]]) -> tuple[PlaygroundState, list[str]]:
    """The state a link describes, repaired where it must be, and what was repaired."""
    errors: list[str] = []
    get = {name: _single(params, name, errors) for name in PARAMS}
    d = PlaygroundState()

    preset = get["data"] if get["data"] is not None else d.preset
    if preset not in PRESETS:
        errors.append(
            f"The link's data '{md(preset[:20])}' is not one of {', '.join(PRESETS)}; it is {d.preset}."
        )
        preset = d.preset
    k = int(_in_range("k (classes)", get["k"], MIN_CLASSES, MAX_CLASSES, d.k, errors, integer=True))
    if classes_for(preset, k) != k:
        errors.append(f"{PRESETS[preset].label} has {classes_for(preset, k)} classes, not {k}.")
        k = classes_for(preset, k)
    per_class = int(
        _in_range("n (points per class)", get["n"], 1, MAX_PER_CLASS, d.per_class, errors, integer=True)
    )
    seed = int(_in_range("seed", get["seed"], 0, SEED_MAX, d.seed, errors, integer=True))
    points = _decode_points(get["points"], k, errors)
    W, b = _decode_model(get["W"], get["b"], seed, k, errors)

    loss = get["loss"] if get["loss"] is not None else d.loss
    if loss not in LOSS_LABELS:
        errors.append(
            f"The link's loss '{md(loss[:20])}' is not one of {', '.join(LOSS_LABELS)}; it is {d.loss}."
        )
        loss = d.loss
    lam = float(_in_range("lambda", get["lambda"], 0.0, LAMBDA_MAX, d.lam, errors))
    lr = float(_in_range("learning rate", get["lr"], LR_MIN, LR_MAX, d.lr, errors))
    temperature = float(
        _in_range("temperature", get["T"], TEMPERATURE_MIN, TEMPERATURE_MAX, d.temperature, errors)
    )
    steps = int(_in_range("steps", get["steps"], 1, STEPS_MAX, d.steps, errors, integer=True))
    shade = None
    if get["shade"]:
        if get["shade"] in CLASS_NAMES[:k]:
            shade = CLASS_NAMES.index(get["shade"])
        else:
            errors.append(
                f"The link shades '{md(get['shade'][:20])}', which is not one of its classes; the regions are shown."
            )
    state = PlaygroundState(
        preset, k, per_class, seed, points, W, b, loss, lam, lr, temperature, steps, shade
    )
    return state, errors
