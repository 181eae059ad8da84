"""The feature cache: reuse, invalidation, corruption, kills and two processes at once."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

import core.learn.feature_cache as feature_cache
import core.learn.features as features
import core.learn.workers as training_workers
from core.features import ExtractionError, extract_features
from core.images import stat_ref
from core.learn.feature_cache import FeatureCache
from harness.images import make_image, write_image

ROOT = Path(__file__).resolve().parents[2]


def make_images(folder: Path, n: int, start: int = 0) -> list[Path]:
    return [
        write_image(
            folder / f"img{i:03d}.jpg",
            color_bgr=((29 * i) % 256, (71 * i) % 256, 128),
            size=(24, 32),
            noise=25,
            seed=i,
        )
        for i in range(start, start + n)
    ]


def chunk_files(cache: Path) -> list[Path]:
    return sorted(cache.glob("features/*/chunk-*.npz"))


def reference(paths):
    return extract_features(paths, cache_dir=False, workers=1)


def run(paths, cache, **kw):
    calls = []
    kw.setdefault("workers", 1)
    feats = extract_features(paths, cache_dir=cache, progress=lambda d, t: calls.append(d), **kw)
    return feats, calls


def test_second_run_only_loads(tmp_path):
    paths = make_images(tmp_path / "imgs", 20)
    first, _ = run(paths, tmp_path / "cache")
    assert first.cached == 0 and chunk_files(tmp_path / "cache")
    second, calls = run(paths, tmp_path / "cache")
    assert second.cached == 20 and calls == [20]  # nothing left to describe
    np.testing.assert_array_equal(second.X, first.X)
    assert second.paths == first.paths


def test_default_cache_dir_is_the_apps(tmp_path):
    paths = make_images(tmp_path / "imgs", 3)
    extract_features(paths, workers=1)  # cache_dir=None: core.paths.cache_dir()
    assert chunk_files(Path(os.environ["SOFTMAX_CACHE_DIR"]))
    assert extract_features(paths, workers=1).cached == 3


def test_touched_and_changed_files_are_described_again(tmp_path):
    paths = make_images(tmp_path / "imgs", 10)
    cache = tmp_path / "cache"
    run(paths, cache)
    st = paths[3].stat()
    os.utime(paths[3], ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))  # touch
    write_image(paths[7], make_image(color_bgr=(0, 255, 0), size=(24, 32), seed=99))  # new content
    feats, calls = run(paths, cache)
    assert feats.cached == 8 and calls[0] == 8
    np.testing.assert_array_equal(feats.X, reference(paths).X)


def test_new_files_only_are_described(tmp_path):
    folder = tmp_path / "imgs"
    paths = make_images(folder, 10)
    run(paths, tmp_path / "cache")
    more = paths + make_images(folder, 5, start=10)
    feats, _ = run(more, tmp_path / "cache")
    assert feats.cached == 10 and len(feats.paths) == 15


def test_parameters_never_share_rows(tmp_path):
    paths = make_images(tmp_path / "imgs", 4)
    cache = tmp_path / "cache"
    run(paths, cache)
    assert run(paths, cache, bins=(4, 4, 4))[0].cached == 0
    assert run(paths, cache, fast=False)[0].cached == 0
    assert run(paths, cache, bins=(4, 4, 4))[0].X.shape == (4, 64)


def test_unreadable_files_are_remembered_until_they_change(tmp_path):
    paths = make_images(tmp_path / "imgs", 3)
    bad = tmp_path / "imgs" / "bad.jpg"
    bad.write_text("not an image")
    cache = tmp_path / "cache"
    run(paths + [bad], cache)
    feats, _ = run(paths + [bad], cache)
    assert feats.cached == 4 and feats.skipped == [(str(bad), "not an image (or corrupt)")]
    write_image(bad)  # fixed by the user: described again
    feats, _ = run(paths + [bad], cache)
    assert feats.cached == 3 and feats.skipped == [] and len(feats.paths) == 4


def test_symlinks_share_rows_with_their_target(tmp_path):
    paths = make_images(tmp_path / "imgs", 2)
    link = tmp_path / "link.jpg"
    link.symlink_to(paths[0])
    assert stat_ref(link).real == stat_ref(paths[0]).real == str(paths[0].resolve())
    cache = tmp_path / "cache"
    run(paths, cache)
    assert run([link], cache)[0].cached == 1


def _garbage(path: Path):
    path.write_bytes(b"\x00garbage" * 50)


def _truncate(path: Path):
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def _flip_a_row_byte(path: Path):
    data = bytearray(path.read_bytes())
    data[len(data) // 3] ^= 0xFF  # inside X's bytes: the zip CRC no longer matches
    path.write_bytes(bytes(data))


def _wrong_shape(path: Path):
    with np.load(path) as z:
        meta = z["meta"]
    np.savez(open(path, "wb"), X=np.zeros((1, 7), np.float32), meta=meta)


def _nan_rows(path: Path):
    with np.load(path) as z:
        X, meta = z["X"].copy(), z["meta"]
    X[0, 0] = np.nan
    np.savez(open(path, "wb"), X=X, meta=meta)


def _pickled(path: Path):
    with np.load(path) as z:
        X = z["X"]
    np.savez(open(path, "wb"), X=X, meta=np.array([{"keys": "evil"}], dtype=object))


def _other_params(path: Path):
    with np.load(path) as z:
        X, meta = z["X"], json.loads(z["meta"].tobytes())
    meta["bins"] = [4, 4, 4]
    np.savez(open(path, "wb"), X=X, meta=np.frombuffer(json.dumps(meta).encode(), np.uint8))


@pytest.mark.parametrize(
    "damage", [_garbage, _truncate, _flip_a_row_byte, _wrong_shape, _nan_rows, _pickled, _other_params]
)
def test_a_corrupt_cache_file_is_detected_and_rebuilt(tmp_path, damage):
    paths = make_images(tmp_path / "imgs", 6)
    cache = tmp_path / "cache"
    good = run(paths, cache)[0]
    (chunk,) = chunk_files(cache)
    damage(chunk)
    feats, _ = run(paths, cache)
    assert feats.cached == 0  # nothing from the damaged file was trusted
    assert feats.cache_notes and "corrupt" in feats.cache_notes[0]
    np.testing.assert_array_equal(feats.X, good.X)
    assert not chunk.exists()
    assert run(paths, cache)[0].cached == 6  # rebuilt


def test_many_chunks_are_merged_and_rows_of_vanished_files_dropped(tmp_path, monkeypatch):
    monkeypatch.setattr(features, "FLUSH_ROWS", 4)
    monkeypatch.setattr(feature_cache, "MAX_CHUNKS", 1)
    paths = make_images(tmp_path / "imgs", 12)
    cache = tmp_path / "cache"
    run(paths, cache)
    assert len(chunk_files(cache)) == 1
    gone = paths.pop(0)
    gone.unlink()
    paths += make_images(tmp_path / "imgs", 1, start=12)
    feats, _ = run(paths, cache)
    assert feats.cached == 11 and len(chunk_files(cache)) == 1
    kept = FeatureCache(cache, (8, 8, 8), True).load()
    assert len(kept) == 12 and not any(k[0] == str(gone) for k in kept._rows)


def test_an_unwritable_cache_costs_speed_not_results(tmp_path):
    paths = make_images(tmp_path / "imgs", 5)
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the cache folder should be")
    feats, _ = run(paths, blocker)
    np.testing.assert_array_equal(feats.X, reference(paths).X)
    assert feats.cache_notes and "could not save" in feats.cache_notes[0]


def test_temporary_files_never_look_like_chunks(tmp_path):
    paths = make_images(tmp_path / "imgs", 3)
    cache = tmp_path / "cache"
    run(paths, cache)
    folder = chunk_files(cache)[0].parent
    (folder / ".tmp-half-written.npz").write_bytes(b"PK\x03\x04 half")
    feats, _ = run(paths, cache)
    assert feats.cached == 3 and feats.cache_notes == []


# ---- kills and concurrency (real processes) ----------------------------------------
SCRIPT = """
import sys, time
import numpy as np
import core.learn.features as F
F.FLUSH_ROWS = 8
cache, out, slow, paths = sys.argv[1], sys.argv[2], float(sys.argv[3]), sys.argv[4:]
def progress(done, total):
    print(done, flush=True)
    time.sleep(slow)
feats = F.extract_features(paths, cache_dir=cache, workers=1, progress=progress)
np.save(out, feats.X)
print("cached", feats.cached, "notes", len(feats.cache_notes), flush=True)
"""


def _start(cache, out, paths, slow=0.0):
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    args = [sys.executable, "-c", SCRIPT, str(cache), str(out), str(slow), *map(str, paths)]
    return subprocess.Popen(args, cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True)


def test_a_killed_extraction_leaves_a_usable_cache_and_resumes(tmp_path):
    paths = make_images(tmp_path / "imgs", 64)
    cache = tmp_path / "cache"
    proc = _start(cache, tmp_path / "x.npy", paths, slow=0.2)
    for line in proc.stdout:
        if int(line) >= 24:  # three chunks of 8 saved
            break
    proc.send_signal(signal.SIGKILL)  # no chance to clean up
    proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    feats, calls = run(paths, cache)
    assert 24 <= feats.cached < 64 and calls[0] == feats.cached  # resumed after the saved chunks
    assert feats.cache_notes == []
    np.testing.assert_array_equal(feats.X, reference(paths).X)


def _loky_workers() -> list[int]:
    """Process ids of this process's loky workers (Linux /proc)."""
    pids = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            ppid = int(stat.read_text().rsplit(")", 1)[1].split()[1])
            cmd = (stat.parent / "cmdline").read_bytes()
        except (OSError, IndexError, ValueError):
            continue
        if ppid == os.getpid() and b"loky" in cmd and b"resource_tracker" not in cmd:
            pids.append(int(stat.parent.name))
    return pids


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="finds workers through /proc")
def test_a_killed_worker_gives_a_clear_error_and_the_done_rows_are_kept(tmp_path, monkeypatch):
    training_workers.shutdown()  # the training worker of earlier tests is a loky process too: not that one
    monkeypatch.setattr(features, "BACKEND", "loky")  # worker processes that can be killed
    monkeypatch.setattr(features, "MIN_PARALLEL", 0)
    monkeypatch.setattr(features, "FLUSH_ROWS", 8)
    # big enough that work is left when the first batch comes back
    paths = [write_image(tmp_path / "imgs" / f"{i}.jpg", size=(240, 320), seed=i) for i in range(240)]
    cache = tmp_path / "cache"
    killed = []

    def kill_a_worker(done, total):
        if done and not killed:
            killed.extend(_loky_workers()[:1])
            for pid in killed:
                os.kill(pid, signal.SIGKILL)
            time.sleep(0.3)

    with pytest.raises(ExtractionError, match="worker process died"):
        extract_features(paths, cache_dir=cache, workers=2, progress=kill_a_worker)
    assert killed
    resumed = extract_features(paths, cache_dir=cache, workers=2)
    assert resumed.cached >= 8
    np.testing.assert_array_equal(resumed.X, reference(paths).X)


def test_two_processes_extracting_at_once_agree(tmp_path):
    paths = make_images(tmp_path / "imgs", 80)
    cache = tmp_path / "cache"
    procs = [_start(cache, tmp_path / f"x{k}.npy", paths, slow=0.01) for k in range(2)]
    for proc in procs:
        proc.communicate(timeout=120)
        assert proc.returncode == 0
    ref = reference(paths).X
    for k in range(2):
        np.testing.assert_array_equal(np.load(tmp_path / f"x{k}.npy"), ref)
    feats, _ = run(paths, cache)
    assert feats.cached == 80 and feats.cache_notes == []
