"""Hostile input, round two: what one student could once use to take the class server down.

Each case goes through a real entry point (the core call a page makes, the page in
AppTest, the command line). Where a regression would cost memory or time, the case runs
in a child process under a memory limit and a timeout, and the child reports its peak
memory, so a regression fails instead of hanging or killing CI.
"""

from __future__ import annotations

import io
import json
import os
import struct
import subprocess
import sys
import textwrap
import threading
import time
import zipfile
from pathlib import Path

import cv2
import numpy as np
import pytest

from core.data import library
from core.data.archive import ArchiveError, safe_extract_zip
from core.data.dataset import load_dataset
from core.images import ImageError, decode_image, file_thumbnail, read_file, stat_ref
from core.learn.classify import classify_one
from core.learn.features import extract_features
from core.learn.model import ModelFormatError, SavedModel
from core.paths import data_dir, models_dir
from harness.apptest import open_page
from harness.hostile import gigapixel_jpeg, model_header, model_npz, overlapping_zip
from harness.images import (
    CLASS_COLORS,
    encode,
    make_class_folders,
    make_image,
    make_zip,
    write_image,
)
from tests.support import ROOT, rendered

MEMORY_LIMIT = 3 * 1024**3  # address space of a child: a regression fails, it cannot take the machine


def bounded(code: str, timeout: float = 60, env: dict | None = None) -> dict:
    """Run code in a child under MEMORY_LIMIT and a timeout; it prints a JSON dict last,
    to which its peak resident memory (MB) is added."""
    script = textwrap.dedent(code) + textwrap.dedent(
        """
        import resource as _r, json as _j
        print(_j.dumps({**RESULT, "peak_mb": _r.getrusage(_r.RUSAGE_SELF).ru_maxrss / 1024}))
        """
    )

    def limit():
        import resource

        resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))

    proc = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        timeout=timeout,
        preexec_fn=limit,
        env={**os.environ, "PYTHONPATH": str(ROOT), **(env or {})},
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


# ---------------------------------------------------------------- 1. the decode gate


def test_the_gigapixel_jpeg_is_refused_from_its_header_in_bounded_memory(tmp_path):
    path = tmp_path / "cat.0.jpg"
    path.write_bytes(gigapixel_jpeg())
    out = bounded(
        f"""
        from core.images import decode_image, ImageError
        from core.learn.features import extract_features
        try:
            decode_image(open({str(path)!r}, "rb").read())
            RESULT = {{"refused": ""}}
        except ImageError as e:
            RESULT = {{"refused": str(e)}}
        feats = extract_features([{str(path)!r}], cache_dir=False)
        RESULT["skipped"] = feats.skipped[0][1] if feats.skipped else ""
        """
    )
    assert "20000 x 20000" in out["refused"] and "20000 x 20000" in out["skipped"]
    assert out["peak_mb"] < 400, out  # the decode would take 1,200 MB


def test_a_jpeg_whose_frame_size_cannot_be_read_is_refused():
    small = encode(make_image(size=(8, 8)), ".jpg")
    sof = next(i for i in range(2, len(small) - 1) if small[i] == 0xFF and small[i + 1] == 0xC0)
    no_frame = small[:sof] + small[sof + 2 + struct.unpack(">H", small[sof + 2 : sof + 4])[0] :]
    with pytest.raises(ImageError, match="does not say how large"):
        decode_image(no_frame)
    assert decode_image(small).shape == (8, 8, 3)  # a sound JPEG still decodes


@pytest.mark.parametrize(
    "entry", ["ui.router", "softmax", "core.learn.workers", "core.data.demo", "core.charts.histogram"]
)
def test_opencvs_own_limit_is_in_force_whichever_module_is_imported_first(entry):
    """OpenCV reads OPENCV_IO_MAX_IMAGE_PIXELS once, at import: every entry point sets it
    (through core) before cv2 is first imported, so cv2 itself refuses a 64-megapixel PNG."""
    out = bounded(
        f"""
        import importlib, os, zlib, struct, sys
        importlib.import_module({entry!r})
        import cv2, numpy as np
        w = h = 8000
        raw = zlib.compress(b"".join(b"\\x00" + b"\\x00" * (3 * w) for _ in range(h)), 9)
        def chunk(t, d):
            return struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d))
        png = b"\\x89PNG\\r\\n\\x1a\\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)) + chunk(b"IDAT", raw) + chunk(b"IEND", b"")
        try:
            decoded = cv2.imdecode(np.frombuffer(png, np.uint8), cv2.IMREAD_COLOR) is not None
        except cv2.error:  # OpenCV's validateInputImageSize: refused before it allocates
            decoded = False
        RESULT = {{"decoded": decoded, "limit": os.environ.get("OPENCV_IO_MAX_IMAGE_PIXELS")}}
        """
    )
    assert out == {**out, "decoded": False, "limit": "50000000"}


# ---------------------------------------------------------------- 2. model files


def test_model_bombs_are_refused_before_their_data_is_read(tmp_path):
    bins = (256, 256, 256)  # 16.7 M features: 134 MB of weights in a file of a few hundred KB
    bomb = model_npz(coef=np.zeros((1, 256**3)), intercept=np.zeros(1), header=model_header(bins))
    wide = model_npz(coef=np.zeros((1, 512)), intercept=np.zeros(1), header=model_header(pad=500 * 1024**2))
    assert len(bomb) < 5 * 2**20 and len(wide) < 5 * 2**20  # both pass the upload limit
    (tmp_path / "bomb.npz").write_bytes(bomb)
    (tmp_path / "wide.npz").write_bytes(wide)
    out = bounded(
        f"""
        import time
        from core.learn.model import SavedModel, ModelFormatError
        RESULT = {{}}
        for name in ("bomb", "wide"):
            t0 = time.perf_counter()
            try:
                SavedModel.from_bytes(open({str(tmp_path)!r} + f"/{{name}}.npz", "rb").read())
                RESULT[name] = ""
            except ModelFormatError as e:
                RESULT[name] = str(e)
            RESULT[name + "_s"] = time.perf_counter() - t0
        """
    )
    assert "at most" in out["bomb"] and "at most" in out["wide"], out
    assert out["bomb_s"] < 1 and out["wide_s"] < 1 and out["peak_mb"] < 300, out


@pytest.mark.parametrize(
    "coef, words",
    [
        (np.zeros((1, 512), "datetime64[s]"), "real numbers"),
        (np.zeros((1, 512), complex), "real numbers"),
        (np.zeros((1, 512), np.int64), "real numbers"),
        (np.zeros((2, 3, 512)), "shape"),
    ],
)
def test_model_weights_must_be_real_numbers_of_a_model_shape(coef, words):
    with pytest.raises(ModelFormatError, match=words):
        SavedModel.from_bytes(model_npz(coef=coef, intercept=np.zeros(1), header=model_header()))


def test_an_uploaded_model_file_is_parsed_once_not_on_every_rerun(monkeypatch, tmp_path):
    from tests.unit.test_classify import fit

    calls = []
    real = SavedModel.from_bytes.__func__

    def counting(cls, data):
        calls.append(len(data))
        return real(cls, data)

    monkeypatch.setattr(SavedModel, "from_bytes", classmethod(counting))
    at = open_page("pages/classify.py")
    at.file_uploader(key="model_file").upload("m.npz", fit(bins=(4, 4, 4))[1].to_bytes()).run()
    at.slider(key="threshold").set_value(0.7).run()
    at.slider(key="threshold").set_value(0.8).run()
    assert (
        not at.exception
        and len(calls) == 1
        and any("Using the uploaded model" in s.value for s in at.success)
    )


# ---------------------------------------------------------------- 3. planted files in .models


def test_planted_model_files_are_skipped_with_a_reason_and_the_page_works():
    from tests.unit.test_classify import fit

    folder = models_dir()
    folder.mkdir(parents=True)
    os.mkfifo(folder / "evil.npz")  # reading it would wait for a writer forever
    with open(folder / "huge.npz", "wb") as f:
        f.truncate(2**30)  # 1 GiB (sparse): must not be read
    _, model = fit(bins=(4, 4, 4))
    odd = SavedModel(
        model.classes,
        model.coef,
        model.intercept,
        model.kind,
        model.bins,
        model.fast,
        meta={"trained_at": 12345, "accuracy": "high", "dataset": ["x"], "config": "?"},
    )
    odd.save(folder / "odd-meta.npz")
    t0 = time.perf_counter()
    at = open_page("pages/classify.py")
    assert time.perf_counter() - t0 < 20 and not at.exception
    warnings = " ".join(rendered(w.value) for w in at.warning)
    assert "evil.npz" in warnings and "not a regular file" in warnings
    assert "huge.npz" in warnings and "over the 5 MB limit" in warnings
    labels = at.selectbox(key="saved_model").options
    assert len(labels) == 1 and labels[0].startswith(
        "Saved: unnamed dataset · 4x4x4"
    )  # the odd meta, made safe


# ---------------------------------------------------------------- 4-5. links inside a dataset


def test_symlink_loops_end_and_each_real_file_is_listed_once():
    root = make_class_folders(data_dir() / "pets", per_class=10)
    (root / "cat" / "a").symlink_to(".")
    (root / "cat" / "b").symlink_to(".")
    (root / "dog" / "again").symlink_to(root / "dog")
    t0 = time.perf_counter()
    ds = load_dataset(root, within=data_dir())
    assert time.perf_counter() - t0 < 2
    assert len(ds.paths) == 20 and len({r.ino for r in ds.refs}) == 20  # no copies in train and test
    assert sum("already listed" in reason for _, reason in ds.skipped) == 3


def test_links_out_of_the_data_folder_are_never_listed_or_read(tmp_path):
    outside = tmp_path / "private"
    write_image(outside / "me.jpg", color_bgr=CLASS_COLORS["cat"])
    make_class_folders(outside / "album", per_class=3, classes=("dog",))
    root = make_class_folders(data_dir() / "pets", per_class=6)
    (root / "cat" / "mine.jpg").symlink_to(outside / "me.jpg")
    (root / "cat" / "passwd.jpg").symlink_to("/etc/passwd")
    (root / "bird").symlink_to(outside / "album" / "dog")
    ds = load_dataset(root, within=data_dir())
    assert all(Path(r.real).is_relative_to(data_dir()) for r in ds.refs)
    assert "bird" not in ds.classes and len(ds.paths) == 12
    reasons = dict(ds.skipped)
    assert "outside the data folder" in reasons[str(root / "cat" / "mine.jpg")]
    assert "outside the data folder" in reasons[str(root / "cat" / "passwd.jpg")]
    assert file_thumbnail(root / "cat" / "mine.jpg", within=data_dir()) is None  # thumbnails too
    with pytest.raises(ImageError, match="outside the data folder"):
        read_file(root / "cat" / "mine.jpg", within=data_dir())


def test_a_file_swapped_after_the_listing_is_not_read(tmp_path):
    root = make_class_folders(data_dir() / "pets", per_class=4)
    ds = load_dataset(root, within=data_dir())
    victim = Path(ds.paths[0])
    secret = write_image(tmp_path / "secret.jpg", color_bgr=(0, 255, 0))
    victim.unlink()
    victim.symlink_to(secret)  # swapped between listing and reading
    feats = extract_features(ds.paths, refs=ds.refs, cache_dir=False)
    assert str(victim) in dict(feats.skipped) and len(feats.paths) == 7


# ---------------------------------------------------------------- 6. zips


JPEG = encode(make_image())


def test_a_zip_that_hides_its_entries_is_refused_before_zipfile_parses_it(monkeypatch, tmp_path):
    data = bytearray(make_zip([(f"cat/{i}.jpg", b"") for i in range(3000)]))
    end = data.rfind(b"PK\x05\x06")
    data[end + 8 : end + 12] = struct.pack("<HH", 7, 7)  # the end record claims 7 entries
    parsed = []
    real = zipfile.ZipFile.__init__
    monkeypatch.setattr(
        zipfile.ZipFile, "__init__", lambda self, *a, **k: parsed.append(1) or real(self, *a, **k)
    )
    with pytest.raises(ArchiveError, match="SOFTMAX_MAX_ZIP_FILES"):
        safe_extract_zip(io.BytesIO(bytes(data)), tmp_path / "out", max_files=100)
    assert parsed == [] and not (tmp_path / "out").exists()


def test_an_overlapping_zip_bomb_is_refused(tmp_path):
    data = overlapping_zip()
    assert len(data) < 50_000  # 200 x 4 MB = 800 MB if unpacked
    with pytest.raises(ArchiveError, match="overlapping"):
        safe_extract_zip(io.BytesIO(data), tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_many_members_just_under_the_per_member_ratio_size_are_refused_together(tmp_path):
    flat = b"\xff\xd8\xff" + b"\x00" * (1024**2 - 4)  # each just under 1 MiB: the per-member rule skips it
    data = make_zip([(f"cat/{i}.jpg", flat) for i in range(40)] + [(f"dog/{i}.jpg", flat) for i in range(40)])
    with pytest.raises(ArchiveError, match="in all"):
        safe_extract_zip(io.BytesIO(data), tmp_path / "out")


def test_the_data_folder_has_a_quota(monkeypatch):
    monkeypatch.setenv("SOFTMAX_MAX_DATA_BYTES", "20000")
    data = make_zip([(f"cat/{i}.jpg", JPEG) for i in range(20)] + [(f"dog/{i}.jpg", JPEG) for i in range(20)])
    with pytest.raises(ArchiveError, match="SOFTMAX_MAX_DATA_BYTES"):
        library.import_zip(io.BytesIO(data), "pets.zip")
    assert sorted(os.listdir(data_dir())) == []


def test_concurrent_uploads_of_one_name_get_their_own_names():
    data = make_zip([(f"cat/{i}.jpg", JPEG) for i in range(3)] + [(f"dog/{i}.jpg", JPEG) for i in range(3)])
    names, errors = [], []

    def upload():
        try:
            names.append(library.import_zip(io.BytesIO(data), "holiday.zip").name)
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=upload) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert errors == [] and sorted(names) == ["holiday", "holiday-2", "holiday-3", "holiday-4"]


def test_a_member_name_over_255_bytes_is_refused_by_name(tmp_path):
    long = "ü" * 130 + ".jpg"  # 130 characters, 264 bytes
    with pytest.raises(ArchiveError, match="overlong name.*255 bytes"):
        safe_extract_zip(io.BytesIO(make_zip([(f"cat/{long}", JPEG), ("dog/1.jpg", JPEG)])), tmp_path / "out")


# ---------------------------------------------------------------- 7. a tall image


def test_a_tall_image_gets_a_bounded_thumbnail_and_costs_no_one_their_result():
    from tests.unit.test_classify import fit, photo

    _, model = fit()
    tall = encode(make_image(CLASS_COLORS["cat"], size=(70000, 400), noise=5), ".png")
    r = classify_one(model, "tall.png", tall)
    assert r.ok and r.thumbnail is not None
    h, w = cv2.imdecode(np.frombuffer(r.thumbnail, np.uint8), cv2.IMREAD_COLOR).shape[:2]
    assert max(h, w) <= 480 and min(h, w) >= 1
    at = open_page("pages/classify.py")
    at.session_state["trained_model"] = model
    at.run()
    up = at.file_uploader(key="uploads")
    up.upload("tall.png", tall, "image/png")
    up.upload("dog.jpg", encode(photo("dog")), "image/jpeg")
    at.run(timeout=60)
    assert not at.exception
    table = next(d.value for d in at.dataframe if "file" in d.value.columns)
    assert set(table["file"]) == {"tall.png", "dog.jpg"}


# ---------------------------------------------------------------- 8. names as text


def test_class_and_dataset_names_with_markup_are_shown_as_text():
    names = ("![x](evil.png)", "[click](evil.example)")
    root = data_dir() / "pets $x^2$ **bold** [a](evil)"
    make_class_folders(root, per_class=8, classes=("cat", "dog"))
    for src, name in zip(("cat", "dog"), names):
        (root / src).rename(root / name)
    at = open_page("pages/train.py")
    at.button(key="train").click().run()
    assert not at.exception
    markup = [e.value for e in [*at.markdown, *at.caption, *at.info, *at.warning, *at.subheader]]
    assert not any("](evil" in m or " $x" in m or " **bold" in m for m in markup), [
        m for m in markup if "evil" in m
    ]
    assert any("\\]\\(evil" in m for m in markup)  # the names are there, escaped
    from core.charts.train import confusion_figure

    fig = confusion_figure(np.eye(2, dtype=int), list(names)).to_dict()
    assert all("<" not in str(x) for x in fig["data"][0]["x"])


# ---------------------------------------------------------------- 9. a stale cache


def test_a_same_size_rewrite_with_its_time_restored_is_described_again(tmp_path):
    path = write_image(tmp_path / "a.bmp", color_bgr=(0, 0, 255), size=(32, 32), noise=0)
    cache = tmp_path / "cache"
    red = extract_features([path], cache_dir=cache).X[0]
    before = os.stat(path)
    blue = encode(make_image((255, 0, 0), size=(32, 32), noise=0), ".bmp")
    assert len(blue) == before.st_size  # the same size...
    path.write_bytes(blue)
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))  # ...and its time put back (touch -r)
    assert stat_ref(path).mtime_ns == before.st_mtime_ns
    again = extract_features([path], cache_dir=cache)
    assert again.cached == 0 and not np.allclose(again.X[0], red)  # described again: blue, not red
