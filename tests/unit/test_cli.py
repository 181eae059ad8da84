"""softmax.py end to end: the post's output, more classes, and clean errors."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

import softmax
from harness.images import make_class_folders, make_kaggle_folder

ROOT = Path(__file__).resolve().parents[2]
SAMPLE_LINE = re.compile(r"^cat=\d+\.\d%, dog=\d+\.\d%, actual=(cat|dog)$")


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "softmax.py", *args], cwd=ROOT, capture_output=True, text=True, timeout=120
    )


def test_two_classes_as_in_the_post(tmp_path, capsys):
    root = make_kaggle_folder(tmp_path / "train", per_class=16)
    assert softmax.main(["--dataset", str(root), "--seed", "1"]) == 0
    out, err = capsys.readouterr()
    assert "accuracy" in out and re.search(r"^\s+cat\s", out, re.M) and re.search(r"^\s+dog\s", out, re.M)
    accuracy = float(re.search(r"accuracy\s+(\d\.\d+)", out).group(1))
    assert accuracy >= 0.85  # reddish cats, bluish dogs: colour separates them
    samples = [line for line in out.splitlines() if "actual=" in line]
    assert len(samples) == 5 and all(SAMPLE_LINE.match(s) for s in samples)
    for s in samples:  # the probabilities of each sample add up to 100%
        cat, dog = map(float, re.findall(r"=(\d+\.\d)%", s))
        assert abs(cat + dog - 100) <= 0.11
    assert "[INFO] describing images" in err and "32/32" in err


def test_three_classes_print_every_class(tmp_path, capsys):
    root = make_class_folders(tmp_path / "pets", per_class=12, classes=("cat", "dog", "bird"))
    assert softmax.main(["--dataset", str(root), "--seed", "3"]) == 0
    out = capsys.readouterr().out
    samples = [line for line in out.splitlines() if "actual=" in line]
    assert len(samples) == 5
    assert all(
        re.match(r"^bird=[\d.]+%, cat=[\d.]+%, dog=[\d.]+%, actual=(bird|cat|dog)$", s) for s in samples
    )
    assert "one-vs-rest" in out  # the post does not say this: we do


def test_seed_makes_the_samples_reproducible(tmp_path, capsys):
    root = make_kaggle_folder(tmp_path / "train", per_class=10)
    softmax.main(["--dataset", str(root), "--seed", "7"])
    first = capsys.readouterr().out
    softmax.main(["--dataset", str(root), "--seed", "7"])
    assert capsys.readouterr().out == first


def test_hinge_exact_bins_and_cache_dir_options(tmp_path, capsys):
    root = make_kaggle_folder(tmp_path / "train", per_class=10)
    cache = tmp_path / "mycache"
    args = [
        "--dataset",
        str(root),
        "--loss",
        "hinge",
        "--exact",
        "--bins",
        "4",
        "4",
        "4",
        "--cache-dir",
        str(cache),
    ]
    assert softmax.main(args) == 0
    out = capsys.readouterr().out
    assert "accuracy" in out
    assert sum("score=" in line and "actual=" in line for line in out.splitlines()) == 5
    assert list(cache.glob("features/v*-hsv4x4x4-exact/chunk-*.npz"))


def test_no_cache_writes_nothing(tmp_path, capsys):
    root = make_kaggle_folder(tmp_path / "train", per_class=6)
    cache = tmp_path / "c"
    assert softmax.main(["--dataset", str(root), "--no-cache", "--cache-dir", str(cache)]) == 0
    assert not cache.exists()


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda p: p / "missing", "Folder not found"),
        (lambda p: (p / "empty").mkdir() or p / "empty", "No images found"),
        (lambda p: make_kaggle_folder(p / "cats", per_class=4, classes=("cat",)), "Only one class"),
        (lambda p: _corrupt_folder(p / "bad"), "only 0 images could be read"),
    ],
)
def test_bad_folders_exit_2_with_one_line_and_no_traceback(tmp_path, make, message):
    result = run_cli("--dataset", str(make(tmp_path)))
    assert result.returncode == 2
    errors = [line for line in result.stderr.splitlines() if line.startswith("softmax.py: error")]
    assert len(errors) == 1 and message in errors[0]
    assert "Traceback" not in result.stderr
    assert result.stdout == ""


def _corrupt_folder(path):
    for name in ("cat.0.jpg", "dog.0.jpg"):
        path.mkdir(exist_ok=True)
        (path / name).write_text("not an image")
    return path


def test_help_lists_the_options():
    result = run_cli("--help")
    assert result.returncode == 0
    for option in ("--dataset", "--exact", "--bins", "--cache-dir", "--loss", "--seed"):
        assert option in result.stdout


def test_missing_dataset_argument_is_a_usage_error():
    result = run_cli()
    assert result.returncode == 2 and "--dataset" in result.stderr
