"""Extraction on a real Dask distributed cluster (a LocalCluster of two worker processes):
the same features, skip reasons and cache as a local run, from the library, the operator's
setting and the command line."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from core.features import extract_features
from core.learn import cluster
from harness.images import write_image
from tests.support import ROOT

distributed = pytest.importorskip("distributed")


@pytest.fixture(scope="module")
def scheduler():
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None, silence_logs=40
    ) as local:
        yield local.scheduler_address
    cluster.close()


@pytest.fixture()
def folder(tmp_path):
    root = tmp_path / "pets"
    root.mkdir()
    for i in range(12):
        label = "cat" if i % 2 else "dog"
        write_image(
            root / f"{label}.{i}.jpg", color_bgr=(20 * i, 200 - 10 * i, 90), size=(40, 56), noise=30, seed=i
        )
    (root / "cat.99.jpg").write_bytes(b"not a jpeg at all")  # skipped, with the same reason
    return root


def test_features_from_the_cluster_equal_local_ones(scheduler, folder, tmp_path):
    paths = sorted(str(p) for p in folder.iterdir())
    local = extract_features(paths, cache_dir=False, workers=1)
    remote = extract_features(paths, cache_dir=tmp_path / "cache", scheduler=scheduler)
    np.testing.assert_array_equal(remote.X, local.X)
    assert remote.paths == local.paths and remote.skipped == local.skipped
    assert len(remote.skipped) == 1 and remote.cached == 0
    # The cache is this machine's, shared with local runs: all of it is there now.
    again = extract_features(paths, cache_dir=tmp_path / "cache", workers=1)
    assert again.cached == len(paths)
    np.testing.assert_array_equal(again.X, local.X)


def test_exact_features_and_the_operator_setting(scheduler, folder, monkeypatch):
    paths = sorted(str(p) for p in folder.iterdir())
    local = extract_features(paths, fast=False, cache_dir=False, workers=1)
    monkeypatch.setenv("SOFTMAX_DASK_SCHEDULER", scheduler)
    monkeypatch.setattr(cluster, "_batch_size", lambda n, threads: 4)  # several tasks per worker
    seen = []
    remote = extract_features(paths, fast=False, cache_dir=False, progress=lambda d, t: seen.append(d))
    np.testing.assert_array_equal(remote.X, local.X)
    assert seen[-1] == len(paths) and len(seen) >= 3  # progress as the batches come back


def test_the_command_line_on_the_cluster_prints_the_same_report(scheduler, folder, tmp_path):
    def run(*extra):
        cmd = [sys.executable, "softmax.py", "--dataset", str(folder), "--no-cache", "--seed", "1", *extra]
        return subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=120)

    here, there = run(), run("--dask", scheduler)
    assert there.returncode == 0, there.stderr
    assert there.stdout == here.stdout and "precision" in there.stdout


def test_an_unreachable_scheduler_says_so(folder, monkeypatch):
    monkeypatch.setattr(cluster, "CONNECT_SECONDS", 1)
    with pytest.raises(cluster.ClusterError, match="cannot reach the Dask scheduler"):
        extract_features([str(p) for p in folder.iterdir()], cache_dir=False, scheduler="tcp://127.0.0.1:9")
