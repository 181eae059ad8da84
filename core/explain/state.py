"""The Explain page's whole state, its URL form, and what a user can do to it.

The state is a frozen `ExplainState`; every change (add or remove a class, paste
scores, take gradient steps) is a function from a state to a new state plus the
messages a user should read. No Streamlit here: ui/explain_state.py wires these to
the widgets and callbacks.

Query parameters (all optional; a missing one takes the post's default):

    classes      class names, comma-separated; each name percent-encoded, so a
                 name may itself contain a comma: ``dog,cat,boat,airplane``
    scores       one number per class, comma-separated: ``-3.44,1.16,-0.81,3.91``
    target       index of the true class, 0-based: ``3`` (airplane)
    base         log base of the loss: ``e`` (nats), ``10`` or ``2`` (bits)
    temperature  softmax temperature T > 0: ``1``

Another page hands scores over with ``ui.explain_state.hand_off(...)``, which
clamps them (`clamp_state`) and opens the Explain page with ``encode_state(state)``.

`decode_state` never raises: a broken or hostile URL gives the default state, or
a clamped one, plus messages saying what was changed and why.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, replace
from urllib.parse import quote, unquote

from core.text import clean_name, finite_number, md, name_key

PARAMS = ("classes", "scores", "target", "base", "temperature")

MIN_CLASSES, MAX_CLASSES = 2, 10
SCORE_LIMIT = 50.0  # sliders span -50..50: wide enough for a real linear model's scores
TEMPERATURE_MIN, TEMPERATURE_MAX = 0.05, 10.0
NAME_MAX = 40  # characters; longer names break the table layout
# Characters per parameter; anything longer is not a state we wrote. The longest we write:
# MAX_CLASSES names of NAME_MAX characters, each up to 4 UTF-8 bytes = 12 characters as %XX.
VALUE_MAX = MAX_CLASSES * (NAME_MAX * 12 + 1)
BASES = {"e": math.e, "10": 10.0, "2": 2.0}


@dataclass(frozen=True)
class ExplainState:
    classes: tuple[str, ...]
    scores: tuple[float, ...]
    target: int
    base: str = "e"
    temperature: float = 1.0


def default_state() -> ExplainState:
    """The post's worked example: airplane is the true class."""
    return ExplainState(
        classes=("dog", "cat", "boat", "airplane"),
        scores=(-3.44, 1.16, -0.81, 3.91),
        target=3,
    )


# ---------------------------------------------------------------- encode


def _number(x: float) -> str:
    # repr gives the shortest string that reads back as the same float: 3.91, not 3.9100000001
    return "0" if x == 0 else repr(float(x)).removesuffix(".0")


def encode_state(state: ExplainState) -> dict[str, str]:
    return {
        "classes": ",".join(quote(c, safe="") for c in state.classes),
        "scores": ",".join(_number(s) for s in state.scores),
        "target": str(state.target),
        "base": state.base,
        "temperature": _number(state.temperature),
    }


# ---------------------------------------------------------------- decode


def _single(params: Mapping[str, str | list[str]], name: str) -> str | None:
    value = params.get(name)
    if isinstance(value, (list, tuple)):
        value = value[-1] if value else None  # st.query_params also keeps the last
    return None if value is None else str(value)


def _clamp(x: float, lo: float, hi: float) -> float:
    return min(max(x, lo), hi)


def unique_names(names: list[str]) -> tuple[list[str], list[str]]:
    """Names as the page keeps them: cleaned (core.text.clean_name: NFC, no invisible or
    bidi characters), empty ones become 'class N', long ones are cut, and a name that
    reads the same as an earlier one (core.text.name_key: 'Cat', 'cat', 'ｃａｔ') gets
    ' (2)'. Returns (names, messages); messages are Markdown, names in them escaped."""
    out, messages, seen = [], [], set()
    for i, raw in enumerate(names):
        name, notes = clean_name(raw)
        messages.extend(notes)
        if not name:
            name = f"class {i + 1}"
            messages.append(f"Class {i + 1} had no name; it is shown as '{name}'.")
        if len(name) > NAME_MAX:
            messages.append(
                f"Class name '{md(name[:20])}...' is longer than {NAME_MAX} characters; it was cut."
            )
            name = name[:NAME_MAX].rstrip()
        key = name_key(name)
        if key in seen:
            first = next(o for o in out if name_key(o) == key)
            n = 2
            while name_key(f"{name} ({n})") in seen:
                n += 1
            if first == name:
                said = f"Two classes are both called '{md(name)}'"
            else:
                said = f"'{md(name)}' reads the same as '{md(first)}'"
            messages.append(f"{said}; the second is shown as '{md(name)} ({n})'.")
            name = f"{name} ({n})"
            key = name_key(name)
        seen.add(key)
        out.append(name)
    return out, messages


def _decode_classes(text: str | None, errors: list[str]) -> list[str] | None:
    if text is None:
        return None
    names = [unquote(c) for c in text.split(",")]
    if len(names) > MAX_CLASSES:
        errors.append(
            f"The link lists {len(names)} classes; the explainer shows {MIN_CLASSES} to "
            f"{MAX_CLASSES}, so it kept the first {MAX_CLASSES}."
        )
        names = names[:MAX_CLASSES]
    names, messages = unique_names(names)
    errors.extend(messages)
    return names


def _decode_scores(text: str | None, errors: list[str]) -> list[float] | None:
    if text is None:
        return None
    parts = text.split(",")
    if len(parts) > MAX_CLASSES:
        errors.append(f"The link lists {len(parts)} scores; it kept the first {MAX_CLASSES}.")
        parts = parts[:MAX_CLASSES]
    scores = []
    for i, part in enumerate(parts):
        x = finite_number(part)
        if x is None:
            errors.append(
                f"Score {i + 1} in the link ('{md(part[:20])}') is not a finite number; it was set to 0."
            )
            x = 0.0
        elif abs(x) > SCORE_LIMIT:
            errors.append(
                f"Score {i + 1} in the link ({md(part[:20])}) is outside {-SCORE_LIMIT:g}..{SCORE_LIMIT:g}; "
                "it was clamped."
            )
            x = _clamp(x, -SCORE_LIMIT, SCORE_LIMIT)
        scores.append(x)
    return scores


def _reconcile(
    names: list[str] | None, scores: list[float] | None, errors: list[str]
) -> tuple[list[str], list[float]]:
    default = default_state()
    if names is None and scores is None:
        return list(default.classes), list(default.scores)
    if names is None:
        n = len(scores)
        names = list(default.classes) if n == len(default.classes) else [f"class {i + 1}" for i in range(n)]
    if scores is None:
        n = len(names)
        scores = list(default.scores) if n == len(default.scores) else [0.0] * n
    if len(scores) != len(names):
        errors.append(
            f"The link has {len(names)} class names but {len(scores)} scores; "
            "missing scores were set to 0 and extra ones dropped."
        )
        scores = (scores + [0.0] * len(names))[: len(names)]
    return names, scores


def _decode_target(text: str | None, k: int, errors: list[str]) -> int:
    default = default_state().target
    if text is None:
        return default if k == len(default_state().classes) else 0
    try:
        t = int(text.strip())
    except ValueError:
        t = None
    if t is None or not 0 <= t < k:
        errors.append(
            f"The true class in the link ('{md(text[:20])}') is not a class index 0..{k - 1}; "
            "the first class was used."
        )
        return 0
    return t


def _decode_base(text: str | None, errors: list[str]) -> str:
    if text is None or text.strip() in BASES:
        return "e" if text is None else text.strip()
    errors.append(f"Log base '{md(text[:20])}' in the link is not one of e, 10, 2; natural log was used.")
    return "e"


def _decode_temperature(text: str | None, errors: list[str]) -> float:
    if text is None:
        return 1.0
    t = finite_number(text)
    if t is None or t <= 0:
        errors.append(f"Temperature '{md(text[:20])}' in the link is not a positive number; 1 was used.")
        return 1.0
    if not TEMPERATURE_MIN <= t <= TEMPERATURE_MAX:
        errors.append(
            f"Temperature {t:g} in the link is outside {TEMPERATURE_MIN:g}..{TEMPERATURE_MAX:g}; "
            "it was clamped."
        )
        t = _clamp(t, TEMPERATURE_MIN, TEMPERATURE_MAX)
    return t


def decode_state(params: Mapping[str, str | list[str]]) -> tuple[ExplainState, list[str]]:
    """URL parameters -> (state, messages). Never raises; messages say what was fixed."""
    errors: list[str] = []
    values = {}
    for name in PARAMS:
        v = _single(params, name)
        if v is not None and len(v) > VALUE_MAX:
            errors.append(f"The link's '{name}' is {len(v):,} characters long; it was ignored.")
            v = None
        values[name] = v
    names = _decode_classes(values["classes"], errors)
    scores = _decode_scores(values["scores"], errors)
    names, scores = _reconcile(names, scores, errors)
    if len(names) < MIN_CLASSES:
        errors.append(
            f"The link has {len(names)} class; a softmax needs at least {MIN_CLASSES}. "
            "Showing the post's example instead."
        )
        return default_state(), errors
    state = ExplainState(
        classes=tuple(names),
        scores=tuple(scores),
        target=_decode_target(values["target"], len(names), errors),
        base=_decode_base(values["base"], errors),
        temperature=_decode_temperature(values["temperature"], errors),
    )
    return state, errors


def clamp_state(state: ExplainState) -> tuple[ExplainState, list[str]]:
    """Bring a state made in code (e.g. a model's scores) inside what the page can show."""
    return decode_state(encode_state(state))


# ---------------------------------------------------------------- what a user can do


def clamp_score(x: float) -> float:
    return float(min(max(x, -SCORE_LIMIT), SCORE_LIMIT))


def add_class(state: ExplainState) -> tuple[ExplainState, list[str]]:
    k = len(state.classes)
    if k >= MAX_CLASSES:
        return state, [f"The explainer shows at most {MAX_CLASSES} classes."]
    names, _ = unique_names(list(state.classes) + [f"class {k + 1}"])
    return replace(state, classes=tuple(names), scores=state.scores + (0.0,)), []


def remove_class(state: ExplainState, i: int) -> tuple[ExplainState, list[str]]:
    """Drop class i. The true class stays the true class; if it is the one removed,
    the first remaining class becomes the true one (and the message says so)."""
    if len(state.classes) <= MIN_CLASSES:
        return state, [f"A softmax needs at least {MIN_CLASSES} classes."]
    keep = [j for j in range(len(state.classes)) if j != i]
    target = 0 if state.target == i else keep.index(state.target)
    messages = []
    if state.target == i:
        messages.append(
            f"'{md(state.classes[i])}' was the true class; now '{md(state.classes[keep[0]])}' is "
            "(choose another under True class)."
        )
    new = replace(
        state,
        classes=tuple(state.classes[j] for j in keep),
        scores=tuple(state.scores[j] for j in keep),
        target=target,
    )
    return new, messages


def _is_number(text: str) -> bool:
    try:
        return math.isfinite(float(text))
    except ValueError:
        return False


def paste_scores(state: ExplainState, text: str) -> tuple[ExplainState, list[str]]:
    """Scores pasted as text (e.g. a model's raw outputs): "-3.44, 1.16; -0.81, 3.91".
    Existing names are kept for the first classes; new ones are numbered."""
    parts = [p.strip() for p in str(text).strip().replace(";", ",").split(",") if p.strip()]
    bad = [p for p in parts if not _is_number(p)]
    if bad:
        return state, [f"'{md(bad[0][:30])}' is not a number: paste numbers separated by commas."]
    if not MIN_CLASSES <= len(parts) <= MAX_CLASSES:
        return state, [f"Paste {MIN_CLASSES} to {MAX_CLASSES} scores; you pasted {len(parts)}."]
    names = list(state.classes[: len(parts)])
    names += [f"class {j + 1}" for j in range(len(names), len(parts))]
    names, _ = unique_names(names)
    scores = [float(p) for p in parts]
    messages = []
    if any(abs(x) > SCORE_LIMIT for x in scores):
        messages.append(f"Scores go from {-SCORE_LIMIT:g} to {SCORE_LIMIT:g}; larger ones were clamped.")
    dropped = state.classes[len(parts) :]
    if dropped:
        messages.append(
            f"{len(parts)} scores for {len(state.classes)} classes: {', '.join(md(c) for c in dropped)} "
            f"{'was' if len(dropped) == 1 else 'were'} removed."
        )
    target = state.target if state.target < len(parts) else 0
    if target != state.target:
        messages.append(
            f"The true class, {md(state.classes[state.target])}, was removed: the true class is now "
            f"{md(names[0])}."
        )
    new = replace(state, classes=tuple(names), scores=tuple(clamp_score(x) for x in scores), target=target)
    return new, messages
