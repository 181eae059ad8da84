"""core.demo: the synthetic set is quick, learnable, loads, and always says it is synthetic."""

from __future__ import annotations

import os
import time
from pathlib import Path

import cv2
import numpy as np
import pytest

from core.data.demo import DEMO_NAME, make_demo_dataset
from core.data.library import SYNTHETIC_MARKER, list_datasets
from core.dataset import load_dataset


@pytest.fixture
def data(isolated_dirs) -> Path:
    return Path(os.environ["SOFTMAX_DATA_DIR"])


def test_demo_is_made_in_seconds_and_labelled_synthetic(data):
    start = time.perf_counter()
    path = make_demo_dataset()
    assert time.perf_counter() - start < 5
    assert path == data / DEMO_NAME
    assert "SYNTHETIC" in (path / SYNTHETIC_MARKER).read_text()
    infos, problems = list_datasets()
    assert problems == [] and len(infos) == 1
    info = infos[0]
    assert info.synthetic and info.label.endswith("(synthetic demo)")
    assert (info.n_images, len(info.classes)) == (120, 3)


def test_demo_loads_as_three_balanced_classes_of_decodable_images(data):
    ds = load_dataset(make_demo_dataset())
    assert ds.classes == ["blue", "green", "warm"] and ds.skipped == []
    assert sorted(ds.counts().values()) == [40, 40, 40]
    img = cv2.imread(ds.paths[0])
    assert img is not None and img.shape == (64, 64, 3)


def test_demo_classes_differ_in_colour_but_overlap(data):
    """Learnable by a colour histogram, yet not trivially: the hue spreads overlap."""
    ds = load_dataset(make_demo_dataset())
    mean_hue = {}
    for cls in ds.classes:
        hues = [
            cv2.cvtColor(cv2.imread(p), cv2.COLOR_BGR2HSV)[..., 0].mean()
            for p, label in zip(ds.paths, ds.labels)
            if label == cls
        ]
        mean_hue[cls] = (np.mean(hues), np.std(hues))
    assert mean_hue["warm"][0] < mean_hue["green"][0] < mean_hue["blue"][0]
    assert all(std > 3 for _mean, std in mean_hue.values())


def test_demo_is_reproducible_and_not_rewritten(data):
    path = make_demo_dataset()
    first = (path / "warm" / "warm.0.png").read_bytes()
    mtime = (path / "warm" / "warm.0.png").stat().st_mtime_ns
    assert make_demo_dataset() == path
    assert (path / "warm" / "warm.0.png").stat().st_mtime_ns == mtime
    other = make_demo_dataset(data / "again")
    assert (other / "warm" / "warm.0.png").read_bytes() == first


def test_demo_never_overwrites_a_real_folder_of_that_name(data):
    (data / DEMO_NAME).mkdir()
    (data / DEMO_NAME / "mine.jpg").write_bytes(b"x")
    with pytest.raises(FileExistsError, match="not the app's synthetic demo"):
        make_demo_dataset()
    assert (data / DEMO_NAME / "mine.jpg").read_bytes() == b"x"
    assert sorted(os.listdir(data)) == [DEMO_NAME]  # no temporary folder left behind
