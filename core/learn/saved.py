"""Saved models: written by the Train page into the data folder's .models, offered to
every session, and described so that two of them can be told apart.

Anything in .models may have been planted by someone else: only regular files of
bounded size are read (a FIFO named evil.npz, or a 1 GiB file, is listed as skipped
with its reason), each file is parsed once until it changes, and every field of its
header is treated as untrusted text.
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
import math
import os
import re
import stat
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from core import paths as app_paths
from core.learn.model import MODEL_MAX_BYTES, ModelFormatError, SavedModel

log = logging.getLogger(__name__)


@dataclass(frozen=True, eq=False)
class SavedEntry:
    path: Path
    model: SavedModel
    mtime: float

    @property
    def label(self) -> str:
        return describe(self.model)


def _safe_name(name: str) -> str:
    name = re.sub(r"[^A-Za-z0-9._-]+", "-", str(name)).strip(".-")[:60]
    return name or "model"


def save_model(model: SavedModel) -> Path:
    """Into models_dir(): <dataset>-<kind>-<config hash>.npz, the same settings overwrite."""
    cfg = model.meta.get("config") or {}
    text = json.dumps(
        {
            "config": cfg,
            "kind": model.kind,
            "transform": model.transform,
            "bins": list(model.bins),
            "fast": model.fast,
        },
        sort_keys=True,
    )
    digest = hashlib.sha256(text.encode()).hexdigest()[:8]
    name = f"{_safe_name(model.meta.get('dataset') or 'model')}-{model.kind}-{digest}.npz"
    return model.save(app_paths.models_dir() / name)


def list_saved_models(errors: list | None = None) -> list[SavedEntry]:
    """Every usable model in models_dir(): trained on real photos first, then newest first.
    Unusable files are skipped and reported as (path, reason) in `errors`."""
    folder = app_paths.models_dir()
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return []
    found = []
    for entry in entries:
        if not entry.name.endswith(".npz") or entry.name.startswith("."):
            continue  # .tmp-*: a save in progress
        try:
            st = entry.stat(follow_symlinks=False)
            if not stat.S_ISREG(st.st_mode):
                raise ModelFormatError("not a regular file (a link, pipe or device)")
            if st.st_size > MODEL_MAX_BYTES:
                raise ModelFormatError(
                    f"{st.st_size / 2**20:.0f} MB, over the {MODEL_MAX_BYTES // 2**20} MB limit"
                )
            model = _load(entry.path, st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino)
        except (ModelFormatError, OSError) as exc:
            log.warning("skipping model %s: %s", entry.path, exc)
            if errors is not None:
                errors.append((Path(entry.path), str(exc)))
            continue
        found.append(SavedEntry(Path(entry.path), model, st.st_mtime))
    found.sort(key=lambda e: (not is_synthetic(e.model), e.mtime, e.path.name), reverse=True)
    return found


@functools.lru_cache(maxsize=64)
def _load(path: str, _size: int, _mtime: int, _ctime: int, _ino: int) -> SavedModel:
    """Parsed once per version of the file (its identity is part of the key)."""
    return SavedModel.load(path)


def is_synthetic(model: SavedModel) -> bool:
    from core.data.demo import DEMO_NAME

    return model.meta.get("synthetic") is True or model.meta.get("dataset") == DEMO_NAME


def _text(value, limit: int = 60) -> str:
    """A header field as plain, bounded text (it is untrusted: any JSON type may be there)."""
    return " ".join(str(value).split())[:limit] if isinstance(value, (str, int, float)) else ""


def describe(model: SavedModel) -> str:
    """'pets · 8x8x8 fast · 10 epochs · 61.2% · 2026-12-01 19:30' (untrusted fields made safe)."""
    meta = model.meta
    parts = [_text(meta.get("dataset")) or "unnamed dataset"]
    if is_synthetic(model):
        parts[0] += " (synthetic)"
    cfg = meta.get("config") if isinstance(meta.get("config"), dict) else {}
    parts.append(f"{'x'.join(map(str, model.bins))} {'fast' if model.fast else 'exact'}")
    if isinstance(cfg.get("epochs"), int):
        parts.append(f"{cfg['epochs']} epochs")
    acc = meta.get("accuracy")
    if isinstance(acc, (int, float)) and not isinstance(acc, bool) and math.isfinite(acc) and 0 <= acc <= 1:
        parts.append(f"test accuracy {100 * acc:.1f}%")
    when = meta.get("trained_at")
    if isinstance(when, str):
        try:
            parts.append(datetime.fromisoformat(when[:32]).strftime("%Y-%m-%d %H:%M"))
        except ValueError:
            pass
    return " · ".join(parts)
