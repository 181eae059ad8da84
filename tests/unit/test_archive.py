"""core.archive.safe_extract_zip against the zips a stranger could upload."""

from __future__ import annotations

import io
import stat
import struct
import zipfile
from pathlib import Path

import pytest

from core.data.archive import ArchiveError, safe_extract_zip
from core.dataset import DatasetError, load_dataset
from core.images import sniff
from harness.images import encode, make_image, make_zip

JPEG = encode(make_image(seed=1))
PNG = encode(make_image(seed=2), ".png")


def two_classes(prefix="", n=3):
    return [(f"{prefix}{c}/{i}.jpg", JPEG) for c in ("cat", "dog") for i in range(n)]


def leftovers(parent: Path) -> list[str]:
    return sorted(p.name for p in parent.iterdir()) if parent.exists() else []


@pytest.fixture
def out(tmp_path) -> Path:
    return tmp_path / "data" / "new"


def test_good_zip_extracts_images_that_load(out):
    report = safe_extract_zip(io.BytesIO(make_zip(two_classes())), out)
    assert report.extracted == 6 and report.skipped == []
    assert report.dest == out and report.total_bytes == 6 * len(JPEG)
    ds = load_dataset(out)
    assert ds.classes == ["cat", "dog"] and len(ds.paths) == 6
    assert (out / "cat" / "0.jpg").read_bytes() == JPEG


def test_accepts_a_path_and_reports_progress(tmp_path, out):
    src = tmp_path / "d.zip"
    src.write_bytes(make_zip(two_classes()))
    calls = []
    safe_extract_zip(src, out, progress=lambda d, t: calls.append((d, t)))
    assert calls[-1] == (6, 6)


@pytest.mark.parametrize(
    "name, words",
    [
        ("../evil.jpg", "'..'"),
        ("cat/../../evil.jpg", "'..'"),
        ("/etc/evil.jpg", "absolute"),
        ("C:/evil.jpg", "drive letter"),
        ("..\\evil.jpg", "backslash"),
        ("cat/" + "a" * 300 + ".jpg", "overlong"),
        ("/".join(["d"] * 20) + "/x.jpg", "nested"),
        ("cat/\x07bell.jpg", "control"),
    ],
)
def test_path_escapes_are_refused_and_nothing_is_written(out, name, words):
    data = make_zip(two_classes() + [(zipfile.ZipInfo(name), JPEG)])
    with pytest.raises(ArchiveError, match=words):
        safe_extract_zip(io.BytesIO(data), out)
    assert leftovers(out.parent) == []
    assert not (out.parent.parent / "evil.jpg").exists()


def test_symlink_member_is_refused(out):
    link = zipfile.ZipInfo("cat/link.jpg")
    link.create_system = 3
    link.external_attr = (stat.S_IFLNK | 0o777) << 16
    data = make_zip(two_classes() + [(link, "/etc/passwd")])
    with pytest.raises(ArchiveError, match="symbolic link"):
        safe_extract_zip(io.BytesIO(data), out)
    assert leftovers(out.parent) == []


def test_zip_bomb_by_ratio_is_refused(out):
    bomb = b"\xff\xd8\xff" + bytes(20 * 1024**2)  # 20 MB of zeros packs to ~20 KB
    data = make_zip(two_classes() + [("cat/bomb.jpg", bomb)])
    assert len(data) < 100_000
    with pytest.raises(ArchiveError, match="zip bomb"):
        safe_extract_zip(io.BytesIO(data), out)
    assert leftovers(out.parent) == []


def test_member_and_total_size_limits(out):
    data = make_zip(two_classes(), compression=zipfile.ZIP_STORED)
    with pytest.raises(ArchiveError, match="SOFTMAX_MAX_ZIP_MEMBER"):
        safe_extract_zip(io.BytesIO(data), out, max_member_bytes=len(JPEG) - 1)
    with pytest.raises(ArchiveError, match="SOFTMAX_MAX_ZIP_BYTES"):
        safe_extract_zip(io.BytesIO(data), out, max_total_bytes=3 * len(JPEG))
    assert leftovers(out.parent) == []


def test_too_many_files_is_refused(out):
    data = make_zip(two_classes(n=6))
    with pytest.raises(ArchiveError, match="12 files; the limit is 10"):
        safe_extract_zip(io.BytesIO(data), out, max_files=10)


def test_limits_come_from_environment(out, monkeypatch):
    monkeypatch.setenv("SOFTMAX_MAX_ZIP_FILES", "4")
    with pytest.raises(ArchiveError, match="SOFTMAX_MAX_ZIP_FILES"):
        safe_extract_zip(io.BytesIO(make_zip(two_classes())), out)
    monkeypatch.setenv("SOFTMAX_MAX_ZIP_FILES", "many")
    with pytest.raises(ArchiveError, match="not a number"):
        safe_extract_zip(io.BytesIO(make_zip(two_classes())), out)


def _patch_declared_size(data: bytes, member: str, new_size: int) -> bytes:
    """Rewrite the uncompressed size the central directory declares for member."""
    buf = bytearray(data)
    pos = buf.find(b"PK\x01\x02" + b"", 0)
    while pos != -1:
        name_len = struct.unpack_from("<H", buf, pos + 28)[0]
        name = bytes(buf[pos + 46 : pos + 46 + name_len]).decode()
        if name == member:
            struct.pack_into("<I", buf, pos + 24, new_size)
            return bytes(buf)
        pos = buf.find(b"PK\x01\x02", pos + 4)
    raise AssertionError(member)


@pytest.mark.parametrize("delta", [-100, +100])
def test_declared_size_lies_are_refused(out, delta):
    """Smaller: a bomb hiding its size (the CRC breaks); larger: the stream runs short."""
    data = make_zip(two_classes(), compression=zipfile.ZIP_STORED)
    data = _patch_declared_size(data, "dog/1.jpg", len(JPEG) + delta)
    with pytest.raises(ArchiveError, match="dog/1.jpg") as err:
        safe_extract_zip(io.BytesIO(data), out)
    assert err.value.damaged
    assert leftovers(out.parent) == []


@pytest.mark.parametrize(
    "content, words",
    [
        (b"this is not a zip, just text renamed .zip", "not a zip"),
        (b"", "not a zip"),
        (make_zip(two_classes())[:-200], "not a zip"),  # cut short: no central directory
    ],
)
def test_broken_files_are_refused_as_damaged(out, content, words):
    with pytest.raises(ArchiveError, match=words) as err:
        safe_extract_zip(io.BytesIO(content), out)
    assert err.value.damaged


def test_empty_zip_is_refused(out):
    with pytest.raises(ArchiveError, match="empty"):
        safe_extract_zip(io.BytesIO(make_zip([])), out)


def test_zip_without_images_is_refused_with_counts(out):
    data = make_zip([("notes.txt", b"hi"), ("cat/a.jpg", b""), ("cat/b.jpg", b"GIF89a...")])
    with pytest.raises(ArchiveError, match="no usable image") as err:
        safe_extract_zip(io.BytesIO(data), out)
    assert "1 empty file" in str(err.value) and "1 not an image file" in str(err.value)
    assert leftovers(out.parent) == []


def test_bad_members_are_skipped_and_counted(out):
    entries = two_classes() + [
        ("cat/666.jpg", b""),  # Microsoft's zip has empty files like this one
        ("dog/text.jpg", b"<html>not an image</html>"),
        ("cat/Thumbs.db", b"\x00" * 50),
        ("__MACOSX/cat/._0.jpg", JPEG),
        ("cat/.hidden.jpg", JPEG),
        ("dog/ok.png", PNG),
        ("cat/inner.zip", make_zip(two_classes())),
    ]
    report = safe_extract_zip(io.BytesIO(make_zip(entries)), out)
    assert report.extracted == 7
    reasons = dict(report.skipped)
    assert reasons["cat/666.jpg"].startswith("empty")
    assert reasons["dog/text.jpg"].startswith("not a readable image")
    assert reasons["cat/Thumbs.db"] == reasons["cat/inner.zip"] == "not an image file"
    assert reasons["__MACOSX/cat/._0.jpg"] == reasons["cat/.hidden.jpg"] == "hidden or system file"
    assert report.bad_images == 2
    assert not (out / "dog" / "text.jpg").exists() and not (out / "cat" / "666.jpg").exists()
    assert len(load_dataset(out).paths) == 7


def test_duplicate_and_case_clashing_names_are_skipped(out):
    entries = two_classes() + [("cat/0.JPG", PNG), ("cat/0.jpg", PNG)]
    with pytest.warns(UserWarning):  # zipfile itself warns about the exact duplicate
        data = make_zip(entries)
    report = safe_extract_zip(io.BytesIO(data), out)
    assert report.extracted == 6
    assert [r for _n, r in report.skipped] == ["duplicate name in the zip"] * 2
    assert (out / "cat" / "0.jpg").read_bytes() == JPEG  # the first one wins


def test_single_top_folder_is_stripped_on_request(out, tmp_path):
    data = make_zip(two_classes(prefix="my photos/"))
    safe_extract_zip(io.BytesIO(data), out, strip_single_root=True)
    assert sorted(p.name for p in out.iterdir()) == ["cat", "dog"]
    kept = tmp_path / "kept"
    safe_extract_zip(io.BytesIO(data), kept)
    assert [p.name for p in kept.iterdir()] == ["my photos"]


def test_petimages_folder_is_kept_when_stripping(out):
    data = make_zip(two_classes(prefix="PetImages/"))
    safe_extract_zip(io.BytesIO(data), out, strip_single_root=True)
    assert load_dataset(out).layout == "petimages"


def test_one_class_zip_extracts_but_load_dataset_flags_it(out):
    report = safe_extract_zip(io.BytesIO(make_zip([(f"cat/{i}.jpg", JPEG) for i in range(4)])), out)
    assert report.extracted == 4
    with pytest.raises(DatasetError, match="one class"):
        load_dataset(out)


def test_existing_destination_is_never_overwritten(out):
    out.mkdir(parents=True)
    (out / "mine.txt").write_text("keep")
    with pytest.raises(ArchiveError, match="already exists"):
        safe_extract_zip(io.BytesIO(make_zip(two_classes())), out)
    assert (out / "mine.txt").read_text() == "keep"


def test_the_one_sniffer_reads_signatures():
    assert sniff(JPEG) == "JPEG" and sniff(PNG) == "PNG"
    assert sniff(encode(make_image(), ".bmp")) == "BMP"
    assert sniff(encode(make_image(), ".webp")) == "WEBP"
    assert sniff(encode(make_image(), ".tiff")) == "TIFF"
    assert sniff(b"GIF89a") == "GIF" and sniff(b"") is None


def test_flat_kaggle_folder_in_a_wrapper_is_stripped(out):
    data = make_zip([(f"train/{c}.{i}.jpg", JPEG) for c in ("cat", "dog") for i in range(2)])
    safe_extract_zip(io.BytesIO(data), out, strip_single_root=True)
    assert load_dataset(out).layout == "kaggle-flat"


def test_a_single_class_folder_is_not_mistaken_for_a_wrapper(out):
    data = make_zip([(f"cat/{i}.jpg", JPEG) for i in range(2)])
    safe_extract_zip(io.BytesIO(data), out, strip_single_root=True)
    assert [p.name for p in out.iterdir()] == ["cat"]


def test_a_huge_entry_count_is_refused_before_parsing(out, tmp_path):
    data = make_zip([(f"cat/{i}.jpg", b"") for i in range(50)])
    with pytest.raises(ArchiveError, match="lists 50 entries; the limit is 10 files"):
        safe_extract_zip(io.BytesIO(data), out, max_files=10)
    src = tmp_path / "many.zip"
    src.write_bytes(data)
    with pytest.raises(ArchiveError, match="lists 50 entries"):
        safe_extract_zip(src, out, max_files=10)
