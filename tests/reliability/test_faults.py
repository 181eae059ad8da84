"""Faults under real use: the server SIGKILLed mid-work, and a full disk.

tests/unit/test_feature_cache.py already kills a bare extract_features process and a
worker; tests/unit/test_download.py drops connections. Here the whole `streamlit run`
(with its process pool) is killed while a user's browser is training or downloading,
the server is restarted on the same folders, and a new session carries on. The full
disk is a real tmpfs of a few hundred KB (skipped where it cannot be mounted).
"""

from __future__ import annotations

import io
import os
import re
import time
import zipfile
from pathlib import Path

import numpy as np
import pytest

from core.dataset import load_dataset
from core.features import extract_features
from core.images import stat_ref
from core.learn.feature_cache import FeatureCache
from harness.images import encode, make_image, make_kaggle_folder
from tests.support import open_session, rendered, wait_idle

BIG = (600, 800)  # a photo big enough to decode slowly, so the kill lands mid-run
N_PER_CLASS = 1300


def _open_train(browser, server):
    return open_session(browser, server.url, "Train")


def _big_dataset(root: Path) -> Path:
    """3,000 photos as hard links to 24 distinct large JPEGs: distinct files to the cache."""
    src = root.parent / "originals"
    src.mkdir()
    colours = {"cat": (30, 60, 200), "dog": (200, 120, 30)}
    root.mkdir()
    for cls, colour in colours.items():
        originals = []
        for j in range(12):
            f = src / f"{cls}-{j}.jpg"
            f.write_bytes(encode(make_image(colour, size=BIG, noise=40, seed=j)))
            originals.append(f)
        for i in range(N_PER_CLASS):
            os.link(originals[i % len(originals)], root / f"{cls}.{i}.jpg")
    return root


def _cached_rows(cache: Path, paths) -> int:
    fc = FeatureCache(cache, (8, 8, 8), True).load()
    assert fc.notes == [], fc.notes  # nothing corrupt was found
    return sum(fc.get(stat_ref(p).cache_key) is not None for p in paths)


def _chunks(cache: Path) -> list[Path]:
    return sorted(cache.rglob("chunk-*.npz"))


@pytest.mark.e2e
def test_server_killed_during_feature_extraction_resumes_from_its_cache(browser, start_server, tmp_path):
    data, cache = Path(os.environ["SOFTMAX_DATA_DIR"]), Path(os.environ["SOFTMAX_CACHE_DIR"])
    pets = _big_dataset(data / "pets")
    paths = load_dataset(pets).paths
    assert len(paths) == 2 * N_PER_CLASS

    server = start_server()
    pg = _open_train(browser, server)
    pg.get_by_role("button", name="Train", exact=True).click()
    deadline = time.time() + 120
    while time.time() < deadline and not _chunks(cache):  # work is saved every 1,024 images
        time.sleep(0.02)
    server.kill_server_only()  # the extracting worker is left without its server...
    assert _chunks(cache), "no chunk was saved in time"
    pg.context.close()
    deadline = time.time() + 10
    while server.group_alive() and time.time() < deadline:
        time.sleep(0.1)
    assert not server.group_alive(), "a worker outlived its killed server"  # ...and exits

    # Nothing corrupt: every chunk reads back whole, the dataset is untouched, no model saved.
    before = _chunks(cache)
    assert before, "no chunk was saved before the kill"
    for chunk in before:
        with np.load(chunk, allow_pickle=False) as z:
            assert np.isfinite(z["X"]).all()
    cached = _cached_rows(cache, paths)
    assert 0 < cached < len(paths), "the kill did not land mid-extraction"
    assert len(list(pets.iterdir())) == len(paths)
    assert not (data / ".models").exists() or not any((data / ".models").iterdir())

    # Restart on the same folders: a new session trains, and only the rest is extracted.
    server = start_server()
    pg = _open_train(browser, server)
    pg.get_by_role("button", name="Train", exact=True).click()
    wait_idle(pg, timeout=180_000)
    pg.get_by_text("Results on pets").wait_for()
    n_test = len(paths) // 4
    split = f"{len(paths) - n_test:,} / {n_test:,}"
    assert split in pg.get_by_test_id("stMetric").filter(has_text="train / test").inner_text()
    assert pg.get_by_test_id("stException").count() == 0
    assert _cached_rows(cache, paths) == len(paths)
    assert all(c.exists() for c in before)  # the chunks from before the kill were reused, not redone
    new_rows = 0
    for chunk in set(_chunks(cache)) - set(before):
        with np.load(chunk, allow_pickle=False) as z:
            new_rows += len(z["X"])
    assert new_rows == len(paths) - cached
    pg.context.close()


def _petimages_zip(pad_mb: int = 4) -> bytes:
    """Microsoft's layout in miniature, padded with a stored non-image so it takes a while."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as zf:
        for cls, colour in (("Cat", (30, 60, 200)), ("Dog", (200, 120, 30))):
            for i in range(6):
                zf.writestr(f"PetImages/{cls}/{i}.jpg", encode(make_image(colour, seed=i)))
        zf.writestr("padding.bin", os.urandom(pad_mb * 1024 * 1024))
    return buf.getvalue()


def _open_download_tab(pg) -> None:
    expander = pg.get_by_test_id("stExpander").filter(has_text="Add data")
    if not expander.get_by_role("tab", name="Download").is_visible():
        expander.locator("summary").click()
    expander.get_by_role("tab", name="Download").click()


@pytest.mark.e2e
def test_server_killed_during_a_download_resumes_from_the_part_file(browser, start_server, slow_mirror):
    data = Path(os.environ["SOFTMAX_DATA_DIR"])
    make_kaggle_folder(data / "pets", per_class=4)  # so the page has something to show
    slow_mirror.body, slow_mirror.rate = _petimages_zip(), 1_000_000  # ~4 MB at 1 MB/s
    part = data / ".downloads" / "kagglecatsanddogs.zip.part"

    server = start_server(SOFTMAX_PETIMAGES_URL=slow_mirror.url)
    pg = _open_train(browser, server)
    _open_download_tab(pg)
    pg.get_by_role("button", name=re.compile("Download Kaggle Cats and Dogs")).click()
    deadline = time.time() + 60
    while time.time() < deadline and (not part.exists() or part.stat().st_size < 1_000_000):
        time.sleep(0.05)
    server.kill()
    pg.context.close()
    have = part.stat().st_size
    assert 1_000_000 <= have < len(slow_mirror.body)
    assert slow_mirror.body.startswith(part.read_bytes())  # what was written is exactly the start
    assert not (data / "kaggle-cats-and-dogs").exists()  # no half dataset was published

    slow_mirror.rate = 0  # full speed now
    server = start_server(SOFTMAX_PETIMAGES_URL=slow_mirror.url)
    pg = _open_train(browser, server)
    _open_download_tab(pg)
    pg.get_by_text(re.compile("downloaded before: the button resumes")).wait_for()
    pg.get_by_role("button", name=re.compile("Download Kaggle Cats and Dogs")).click()
    wait_idle(pg, timeout=60_000)
    pg.get_by_text(re.compile("Downloaded and unpacked 12 images")).wait_for()
    resumed_from = int(slow_mirror.log[-1][6:-1])
    assert resumed_from >= have  # the restart asked only for the rest
    assert load_dataset(data / "kaggle-cats-and-dogs").classes == ["Cat", "Dog"]
    assert not part.exists()
    assert pg.get_by_test_id("stException").count() == 0
    pg.context.close()


# ---------------------------------------------------------------- a full disk


def test_full_cache_disk_during_extraction_is_noted_and_leaves_nothing_corrupt(tiny_disk, tmp_path):
    pets = make_kaggle_folder(tmp_path / "pets", per_class=300)  # 600 rows x 2 KB > 256 KB
    paths = load_dataset(pets).paths
    feats = extract_features(paths, cache_dir=tiny_disk, workers=1)
    # The cache is only a speed-up: every image is still described, and the reason is kept.
    assert len(feats.X) == len(paths)
    assert any("No space left" in n for n in feats.cache_notes), feats.cache_notes
    assert not list(tiny_disk.rglob(".tmp-*"))  # no half-written chunk left behind
    # Every row the full disk kept equals the row computed afresh: nothing half-written is trusted.
    fresh = extract_features(paths, cache_dir=False, workers=1)
    assert np.array_equal(fresh.X, feats.X)
    kept = FeatureCache(tiny_disk, (8, 8, 8), True).load()
    assert kept.notes == []
    for p, row in zip(fresh.paths, fresh.X):
        got = kept.get(stat_ref(p).cache_key)
        assert got is None or np.array_equal(got, row)


def _full_data_dir(tiny_disk: Path, monkeypatch) -> Path:
    data = tiny_disk / "data"
    make_kaggle_folder(data / "pets", per_class=4)  # ~30 KB of the 256 KB
    monkeypatch.setenv("SOFTMAX_DATA_DIR", str(data))
    return data


def _texts(elements) -> str:
    return "\n".join(rendered(str(e.value)) for e in elements)


def test_full_data_disk_during_a_zip_import_is_a_clear_message(tiny_disk, monkeypatch):
    from harness.apptest import open_page

    data = _full_data_dir(tiny_disk, monkeypatch)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as zf:  # 400 KB of real images
        for cls, colour in (("cat", (30, 60, 200)), ("dog", (200, 120, 30))):
            for i in range(4):
                zf.writestr(
                    f"{cls}/{i}.png", encode(make_image(colour, size=(160, 200), noise=120, seed=i), ".png")
                )
    at = open_page("pages/train.py")
    at.file_uploader(key="dataset_zip").upload("big.zip", buf.getvalue(), "application/zip").run()
    assert not at.exception
    assert "No space left on device" in _texts(at.error)
    assert sorted(p.name for p in data.iterdir() if not p.name.startswith(".")) == ["pets"]
    assert at.selectbox(key="dataset").value == "pets"  # the page still works on what is there


def test_full_data_disk_during_a_download_keeps_a_resumable_part(tiny_disk, monkeypatch, slow_mirror):
    from harness.apptest import open_page

    data = _full_data_dir(tiny_disk, monkeypatch)
    slow_mirror.body = _petimages_zip(pad_mb=1)
    monkeypatch.setenv("SOFTMAX_PETIMAGES_URL", slow_mirror.url)
    at = open_page("pages/train.py")
    at.button(key="download_petimages").click().run()
    assert not at.exception
    assert "No space left on device" in _texts(at.error)
    part = data / ".downloads" / "kagglecatsanddogs.zip.part"
    assert slow_mirror.body.startswith(part.read_bytes())  # what was written is a true prefix
    assert not (data / "kaggle-cats-and-dogs").exists()


def test_full_cache_disk_while_training_says_so_and_still_trains(tiny_disk, monkeypatch, tmp_path):
    from harness.apptest import open_page

    make_kaggle_folder(Path(os.environ["SOFTMAX_DATA_DIR"]) / "pets", per_class=300)
    monkeypatch.setenv("SOFTMAX_CACHE_DIR", str(tiny_disk))
    at = open_page("pages/train.py", timeout=120)
    at.button(key="train").click().run()
    assert not at.exception and not at.error
    assert "Results on pets" in _texts(at.subheader)
    assert "Feature cache" in _texts(at.warning) and "No space left on device" in _texts(at.warning)
