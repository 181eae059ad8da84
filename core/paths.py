"""Where the app keeps its data, its feature cache and its saved models.

Every folder is set by an environment variable so that a server, a test or a
student's laptop can each point the app somewhere else.
"""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

APP_NAME = "softmax-explained"


def data_dir() -> Path:
    """The only folder the app reads datasets from (a deployed app must not roam)."""
    return Path(os.environ.get("SOFTMAX_DATA_DIR", "data")).resolve()


def cache_dir() -> Path:
    """The feature cache: outside the repo by default, so it survives a fresh clone."""
    default = platformdirs.user_cache_dir(APP_NAME)
    return Path(os.environ.get("SOFTMAX_CACHE_DIR", default)).resolve()


def models_dir() -> Path:
    """Saved models live beside the datasets they were trained on."""
    return data_dir() / ".models"


class SettingError(ValueError):
    """An operator's setting (an environment variable) that cannot be used."""


def positive_number(name: str, default: int) -> int:
    """A whole, positive number from environment variable `name` (1_000 and 1e6 allowed),
    or `default` when it is not set; SettingError saying what is wrong otherwise."""
    raw = os.environ.get(name, "").strip().replace("_", "")
    if not raw:
        return default
    try:
        value = int(float(raw))
    except ValueError:
        raise SettingError(f"{name}={raw!r} is not a number") from None
    if value <= 0:
        raise SettingError(f"{name} must be positive, got {value}")
    return value
