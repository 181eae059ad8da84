"""softmax.py --seeds N: each split's accuracy for both losses, their mean and standard
deviation, equal to the training road run on those splits; without it, the post's output."""

from __future__ import annotations

import re
from dataclasses import replace

import numpy as np

import softmax
from core.dataset import load_dataset
from core.features import extract_features
from core.learn.config import TrainConfig
from core.learn.train import train_arrays
from harness.images import make_kaggle_folder, write_image

ROW = re.compile(r"^\s+(\d+)\s+(\d+\.\d\d)%\s+(\d+\.\d\d)%$")


def _folder(tmp_path):
    root = make_kaggle_folder(tmp_path / "train", per_class=16)
    for i in range(6):  # reddish dogs and bluish cats: each split gets some of them wrong
        write_image(root / f"dog.{100 + i}.jpg", color_bgr=(30, 60, 200), seed=50 + i)
        write_image(root / f"cat.{100 + i}.jpg", color_bgr=(200, 120, 30), seed=60 + i)
    return root


def test_seeds_print_each_split_and_the_mean_and_std(tmp_path, capsys):
    root = _folder(tmp_path)
    assert softmax.main(["--dataset", str(root), "--seed", "1", "--seeds", "4"]) == 0
    out = capsys.readouterr().out
    rows = [ROW.match(line) for line in out.splitlines() if ROW.match(line)]
    assert [int(r.group(1)) for r in rows] == [42, 43, 44, 45]
    # The same splits, by the training road itself.
    ds = load_dataset(root)
    feats = extract_features(ds.paths, cache_dir=False)
    label_of = dict(zip(ds.paths, ds.labels))
    labels = [label_of[p] for p in feats.paths]
    by_hand = np.array(
        [
            (run.post.accuracy, run.hinge.accuracy)
            for run in (
                train_arrays(feats.X, labels, replace(TrainConfig(), split_seed=42 + k), with_curves=False)
                for k in range(4)
            )
        ]
    )  # (4, 2)
    shown = np.array([(float(r.group(2)), float(r.group(3))) for r in rows]) / 100
    np.testing.assert_allclose(shown, by_hand, atol=5e-5)
    mean = re.search(r"^\s+mean\s+(\d+\.\d\d)%\s+(\d+\.\d\d)%$", out, re.M)
    std = re.search(r"^\s+std\s+(\d+\.\d\d)\s+(\d+\.\d\d)\s+\(points, n - 1\)$", out, re.M)
    np.testing.assert_allclose([float(mean.group(1)), float(mean.group(2))], 100 * by_hand.mean(0), atol=5e-3)
    np.testing.assert_allclose(
        [float(std.group(1)), float(std.group(2))], 100 * by_hand.std(0, ddof=1), atol=5e-3
    )
    report_accuracy = float(re.search(r"accuracy\s+(\d\.\d+)", out).group(1))
    assert abs(report_accuracy - by_hand[0, 0]) <= 0.005  # seed 42 is the report above it


def test_without_seeds_the_output_is_the_posts(tmp_path, capsys):
    root = _folder(tmp_path)
    softmax.main(["--dataset", str(root), "--seed", "1"])
    plain = capsys.readouterr().out
    assert "split seed" not in plain and not any(ROW.match(line) for line in plain.splitlines())
    softmax.main(["--dataset", str(root), "--seed", "1", "--seeds", "2"])
    assert capsys.readouterr().out.startswith(plain)  # --seeds only adds its table after it
