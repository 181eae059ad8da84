"""A disk cache of colour histograms that survives restarts, kills and a second session.

Layout: ``<cache_dir>/features/v<version>-hsv8x8x8-fast/chunk-<unique>.npz``. One folder
per set of extraction parameters, so a change of bins, mode or feature code never mixes
rows. Each chunk is an ``.npz`` (read with ``allow_pickle=False``) holding

- ``X``:    (m, d) float32, one histogram per cached image;
- ``meta``: UTF-8 JSON bytes: parameters, ``keys`` (path, size, mtime_ns, ctime_ns) for each
  row of X, and ``skipped`` (path, size, mtime_ns, ctime_ns, reason) for files that could
  not be described. The inode change time is in the key because a user cannot set it back:
  a same-size rewrite with its modification time restored (`touch -r`) is described again.

Why chunks: a run saves what it has done every few hundred images, each chunk written to a
temporary name and then ``os.replace``d into place, so a killed run leaves only whole chunks
and the next run resumes after them. Two processes never write the same file (unique
names), so they can extract at the same time. A chunk that fails any check (zip CRC,
JSON, shapes, dtype, finite values, parameters) is deleted and its images extracted again.
"""

from __future__ import annotations

import json
import os
import tempfile
import time
import uuid
import zipfile
from pathlib import Path

import numpy as np

from core.images.files import stat_ref

# Bump when the feature computation or the key changes, so old rows are never reused.
# 2: keys carry the inode change time. 3: fast mode decodes large JPEGs at 1/4 or 1/8.
FEATURE_VERSION = 3
# Merge into one file when a folder holds more chunks than this (keeps warm loads fast).
MAX_CHUNKS = 16
# Temporary files older than this are leftovers of a killed run.
STALE_TMP_SECONDS = 3600

Key = tuple[str, int, int, int]  # FileRef.cache_key: (resolved path, size, mtime_ns, ctime_ns)


class CacheCorrupt(ValueError):
    """A chunk file that must not be trusted."""


class FeatureCache:
    """Rows already computed for one set of extraction parameters."""

    def __init__(self, root, bins: tuple[int, ...], fast: bool):
        self.bins = tuple(int(b) for b in bins)
        self.fast = bool(fast)
        self.dim = int(np.prod(self.bins))
        name = f"v{FEATURE_VERSION}-hsv{'x'.join(map(str, self.bins))}-{'fast' if fast else 'exact'}"
        self.dir = Path(root) / "features" / name
        self.notes: list[str] = []  # what went wrong with the cache, for the user to see
        # Rows stay in the (m, d) blocks they were read or described in; a key points at
        # (block, row). No array object per image: a warm load of 25,000 rows is one
        # dict and a few fancy-indexed copies.
        self._blocks: list[np.ndarray] = []
        self._rows: dict[Key, tuple[int, int]] = {}
        self._skips: dict[Key, str] = {}
        self._new_keys: list[Key] = []
        self._new_rows: list[np.ndarray] = []  # (m_i, d) blocks, in the order of _new_keys
        self._new_skips: list[tuple[Key, str]] = []
        self._files: set[Path] = set()  # chunk files whose rows are all in memory here

    # ---- reading -------------------------------------------------------------------
    def load(self) -> FeatureCache:
        for path in self._chunk_files():
            try:
                X, keys, skips = self._read_chunk(path)
            except FileNotFoundError:
                continue  # merged away by another process since we listed the folder
            except CacheCorrupt as err:
                self.notes.append(f"ignored a corrupt cache file {path.name}: {err}")
                _unlink(path)
                continue
            self._add_block(keys, X)
            self._skips.update(skips)
            self._files.add(path)
        return self

    def _add_block(self, keys: list[Key], X: np.ndarray) -> None:
        b = len(self._blocks)
        self._blocks.append(X)
        self._rows.update(zip(keys, zip([b] * len(keys), range(len(keys)))))

    def get(self, key: Key) -> np.ndarray | str | None:
        """The cached row, the cached reason the file was skipped, or None."""
        loc = self._rows.get(key)
        if loc is not None:
            return self._blocks[loc[0]][loc[1]]
        return self._skips.get(key)

    def gather(
        self, keys: list[Key], out: np.ndarray, positions: list[int]
    ) -> tuple[list[bool], dict[int, str]]:
        """Copy the cached row of keys[j] into out[positions[j]], for every key that has one.
        Returns (found[j], {positions[j]: the cached reason a file was skipped})."""
        locs = list(map(self._rows.get, keys))
        found = [loc is not None for loc in locs]
        reasons: dict[int, str] = {}
        if self._skips:
            for j, loc in enumerate(locs):
                why = None if loc is not None else self._skips.get(keys[j])
                if why is not None:
                    reasons[positions[j]] = why
                    found[j] = True
        hits = [j for j, loc in enumerate(locs) if loc is not None]
        if hits:
            where = np.array([locs[j] for j in hits])  # (m, 2): block, row
            dst = np.asarray(positions)[hits]
            for b in np.unique(where[:, 0]):
                pick = where[:, 0] == b
                out[dst[pick]] = self._blocks[b][where[pick, 1]]
        return found, reasons

    def __len__(self) -> int:
        return len(self._rows) + len(self._skips)

    def _chunk_files(self) -> list[Path]:
        if not self.dir.is_dir():
            return []
        return sorted(self.dir.glob("chunk-*.npz"))

    def _read_chunk(self, path: Path):
        try:
            with np.load(path, allow_pickle=False) as z:
                if set(z.files) != {"X", "meta"}:
                    raise CacheCorrupt(f"unexpected members {sorted(z.files)}")
                X = z["X"]
                meta = json.loads(z["meta"].tobytes().decode("utf-8"))
        except (FileNotFoundError, CacheCorrupt):
            raise
        except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile, UnicodeError) as err:
            raise CacheCorrupt(f"unreadable ({type(err).__name__}: {err})") from err
        return self._validate(X, meta)

    def _validate(self, X, meta):
        if not isinstance(meta, dict):
            raise CacheCorrupt("metadata is not an object")
        want = {"version": FEATURE_VERSION, "bins": list(self.bins), "fast": self.fast}
        if {k: meta.get(k) for k in want} != want:
            raise CacheCorrupt("written with other extraction parameters")
        keys = meta.get("keys")
        skipped = meta.get("skipped")
        if not isinstance(keys, list) or not isinstance(skipped, list):
            raise CacheCorrupt("metadata lacks keys")
        if X.dtype != np.float32 or X.shape != (len(keys), self.dim):
            raise CacheCorrupt(f"rows of shape {X.shape} {X.dtype} for {len(keys)} keys")
        if not np.isfinite(X).all():
            raise CacheCorrupt("rows hold non-finite values")
        try:
            keys = [(str(p), int(s), int(m), int(c)) for p, s, m, c in keys]
            skips = {(str(p), int(s), int(m), int(c)): str(r) for p, s, m, c, r in skipped}
        except (TypeError, ValueError) as err:
            raise CacheCorrupt("malformed keys") from err
        return X, keys, skips

    # ---- writing -------------------------------------------------------------------
    def put(self, key: Key, row_or_reason: np.ndarray | str) -> None:
        if isinstance(row_or_reason, str):
            self.put_many([key], np.empty((1, self.dim), np.float32), {0: row_or_reason})
        else:
            self.put_many([key], np.asarray(row_or_reason, np.float32).reshape(1, self.dim), {})

    def put_many(self, keys: list[Key], rows: np.ndarray, reasons: dict[int, str]) -> None:
        """A batch as described: rows (len(keys), d), reasons {j: why keys[j] has no row}."""
        if reasons:
            good = [j for j in range(len(keys)) if j not in reasons]
            self._new_skips += [(keys[j], why) for j, why in reasons.items()]
            self._skips.update((keys[j], why) for j, why in reasons.items())
            keys, rows = [keys[j] for j in good], rows[good]
        if keys:
            self._add_block(list(keys), rows)
            self._new_keys += keys
            self._new_rows.append(rows)

    @property
    def pending(self) -> int:
        return len(self._new_keys) + len(self._new_skips)

    def flush(self) -> None:
        """Write what was added since the last flush as one new chunk, atomically.

        A cache that cannot be written (disk full, read-only) costs speed, never results:
        the failure is noted and the rows stay in memory for this run.
        """
        if not self.pending:
            return
        X = np.concatenate(self._new_rows) if self._new_rows else np.empty((0, self.dim), np.float32)
        try:
            self._write_chunk(X.astype(np.float32, copy=False), self._new_keys, self._new_skips)
        except OSError as err:
            self.notes.append(f"could not save features to the cache in {self.dir}: {err}")
        self._new_keys, self._new_rows, self._new_skips = [], [], []

    def _write_chunk(self, X, keys, skips) -> Path:
        meta = {
            "version": FEATURE_VERSION,
            "bins": list(self.bins),
            "fast": self.fast,
            "keys": [list(k) for k in keys],
            "skipped": [[*k, reason] for k, reason in skips],
        }
        blob = np.frombuffer(json.dumps(meta).encode("utf-8"), np.uint8)
        self.dir.mkdir(parents=True, exist_ok=True)
        final = self.dir / f"chunk-{time.time_ns():020d}-{uuid.uuid4().hex[:12]}.npz"
        fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=".npz", dir=self.dir)
        try:
            with os.fdopen(fd, "wb") as fh:
                np.savez(fh, X=X, meta=blob)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, final)
        except BaseException:
            _unlink(Path(tmp))
            raise
        self._files.add(final)
        return final

    def compact(self, current: set[Key] | None = None) -> None:
        """Merge many chunks into one, dropping rows of files that changed or vanished.

        current: keys the caller knows are current (the files it just listed): only the
        others are looked up again. Safe beside another process: only chunks this object
        read or wrote are merged (their rows are in memory), and deleted only after the
        merged file that holds them is in place; one another process wrote meanwhile stays.
        """
        try:
            self._compact(current or set())
        except OSError as err:
            self.notes.append(f"could not tidy the cache in {self.dir}: {err}")

    def _compact(self, current: set[Key]) -> None:
        self._remove_stale_tmp()
        files = self._chunk_files()
        if len(files) <= MAX_CHUNKS:
            return
        mine = [path for path in files if path in self._files]
        others = [k for k in [*self._rows, *self._skips] if k not in current]
        live = current | _still_current(others)
        keys = [k for k in self._rows if k in live]
        X = np.empty((len(keys), self.dim), np.float32)  # (n_live, d)
        self.gather(keys, X, list(range(len(keys))))
        self._write_chunk(X, keys, [(k, r) for k, r in self._skips.items() if k in live])
        for path in mine:
            _unlink(path)
        self._files -= set(mine)

    def _remove_stale_tmp(self) -> None:
        if not self.dir.is_dir():
            return
        cutoff = time.time() - STALE_TMP_SECONDS
        for tmp in self.dir.glob(".tmp-*"):
            try:
                if tmp.stat().st_mtime < cutoff:
                    tmp.unlink()
            except OSError:
                pass


def _still_current(keys: list[Key]) -> set[Key]:
    """The keys whose file still has the same resolved path, size and times."""
    live = set()
    for key in keys:
        try:
            if stat_ref(key[0]).cache_key == key:
                live.add(key)
        except OSError:
            pass
    return live


def _unlink(path: Path) -> None:
    try:
        path.unlink()
    except OSError:
        pass
