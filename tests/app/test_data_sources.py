"""The Train page's data sources, driven as a user would: pick, upload, download, demo."""

from __future__ import annotations

import io
import os
import shutil
import threading
import zipfile
from http.server import ThreadingHTTPServer
from pathlib import Path

import pytest

from harness.apptest import open_page
from harness.images import encode, make_class_folders, make_image, make_kaggle_folder
from tests.support import rendered
from tests.unit.test_download import Handler, Route, petimages_zip

PAGE = "pages/train.py"
SYNTHETIC = "synthetic demo data, not the Dogs vs Cats experiment"


@pytest.fixture
def data(isolated_dirs) -> Path:
    return Path(os.environ["SOFTMAX_DATA_DIR"])


@pytest.fixture
def server():
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.routes, httpd.log, httpd.daemon_threads = {}, [], True
    threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True).start()
    httpd.url = lambda path: f"http://127.0.0.1:{httpd.server_address[1]}{path}"
    yield httpd
    httpd.shutdown()
    httpd.server_close()


def texts(elements) -> str:
    return "\n".join(rendered(str(e.value)) for e in elements)


def visible(data: Path) -> list[str]:
    return sorted(p.name for p in data.iterdir() if not p.name.startswith("."))


def zip_bytes(entries) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, content in entries:
            zf.writestr(name, content)
    return buf.getvalue()


JPEG = encode(make_image())


def test_empty_data_dir_gets_a_labelled_synthetic_demo(data):
    at = open_page(PAGE)
    assert not at.exception
    box = at.selectbox(key="dataset")
    assert box.value == "synthetic-demo"
    assert box.options == ["synthetic-demo — 120 images, 3 classes (synthetic demo)"]
    assert SYNTHETIC in texts(at.warning)
    assert "made a small **synthetic** demo set" in texts(at.info)
    assert str(data) in texts(at.caption) and "SOFTMAX" in texts(at.caption)


def test_lists_datasets_with_counts_and_prefers_a_real_one(data):
    make_kaggle_folder(data / "kaggle", per_class=4)
    make_class_folders(data / "birds", per_class=3, classes=("cat", "dog", "bird"))
    make_class_folders(data / "one-class", per_class=3, classes=("cat",))
    at = open_page(PAGE)
    box = at.selectbox(key="dataset")
    assert box.options == ["birds — 9 images, 3 classes", "kaggle — 8 images, 2 classes"]
    assert box.value == "kaggle"  # the post's experiment (cats and dogs) is offered first
    assert SYNTHETIC not in texts(at.warning)
    assert "one-class: Only one class" in texts(at.warning)
    assert "synthetic-demo" not in visible(data)  # not empty: no demo forced on the user


def test_demo_button_adds_and_selects_the_demo(data):
    make_kaggle_folder(data / "kaggle", per_class=4)
    at = open_page(PAGE)
    assert SYNTHETIC not in texts(at.warning)
    at.button(key="make_demo").click().run()
    assert at.selectbox(key="dataset").value == "synthetic-demo"
    assert "Made the synthetic demo set" in texts(at.success)
    assert SYNTHETIC in texts(at.warning)
    at.selectbox(key="dataset").set_value("kaggle").run()
    assert SYNTHETIC not in texts(at.warning)


def test_upload_a_zip_adds_a_dataset_under_a_safe_name(data):
    make_kaggle_folder(data / "kaggle", per_class=4)
    at = open_page(PAGE)
    content = zip_bytes(
        [(f"photos/{c}/{i}.jpg", JPEG) for c in ("cat", "dog") for i in range(3)]
        + [("photos/cat/empty.jpg", b""), ("photos/notes.txt", b"x")]
    )
    at.file_uploader(key="dataset_zip").upload("../My Pets!.zip", content, "application/zip").run()
    assert not at.exception and not at.error
    assert at.selectbox(key="dataset").value == "my-pets"
    msg = texts(at.success)
    assert "Unpacked 6 images" in msg and "1 empty file" in msg and "1 not an image file" in msg
    assert visible(data) == ["kaggle", "my-pets"]
    at.run()  # the uploader hands the same file back: it must not be unpacked twice
    assert visible(data) == ["kaggle", "my-pets"]


@pytest.mark.parametrize(
    "content, words",
    [
        (zip_bytes([("../evil.jpg", JPEG), ("cat/0.jpg", JPEG)]), "'..'"),
        (zip_bytes([("/abs/evil.jpg", JPEG)]), "absolute path"),
        (zip_bytes([("cat/bomb.jpg", b"\xff\xd8\xff" + bytes(8 * 1024**2))]), "zip bomb"),
        (b"PK but not really a zip", "not a zip"),
        (zip_bytes([]), "empty"),
        (zip_bytes([("readme.txt", b"hi")]), "no usable image"),
    ],
    ids=["zip-slip", "absolute", "bomb", "not-a-zip", "empty", "no-images"],
)
def test_hostile_or_broken_uploads_get_a_clear_error_and_leave_nothing(data, content, words):
    make_kaggle_folder(data / "kaggle", per_class=4)
    at = open_page(PAGE)
    at.file_uploader(key="dataset_zip").upload("bad.zip", content, "application/zip").run()
    assert not at.exception
    error = texts(at.error)
    assert "bad.zip was not imported" in error and words in error
    assert visible(data) == ["kaggle"]
    assert at.selectbox(key="dataset").value == "kaggle"


def test_one_class_upload_is_kept_and_flagged(data):
    make_kaggle_folder(data / "kaggle", per_class=4)
    at = open_page(PAGE)
    content = zip_bytes([(f"cat/{i}.jpg", JPEG) for i in range(3)])
    at.file_uploader(key="dataset_zip").upload("cats.zip", content, "application/zip").run()
    warning = texts(at.warning)
    assert "not a usable dataset yet" in warning and "Only one class" in warning
    assert at.selectbox(key="dataset").options == ["kaggle — 8 images, 2 classes"]


def test_download_button_fetches_from_the_configured_url(data, server, monkeypatch):
    server.routes["/pets.zip"] = Route(petimages_zip())
    monkeypatch.setenv("SOFTMAX_PETIMAGES_URL", server.url("/pets.zip"))
    make_kaggle_folder(data / "kaggle", per_class=4)
    at = open_page(PAGE)
    assert server.url("/pets.zip") in texts(at.caption)
    at.button(key="download_petimages").click().run()
    assert not at.exception and not at.error
    assert at.selectbox(key="dataset").value == "kaggle-cats-and-dogs"
    msg = texts(at.success)
    assert "unpacked 8 images" in msg and "Skipped 3 empty or unreadable image files" in msg
    assert "and 4 files that are not images" in msg
    assert at.button(key="download_petimages").disabled
    assert len(server.log) == 1


def test_download_failure_is_an_error_not_a_traceback(data, server, monkeypatch):
    monkeypatch.setenv("SOFTMAX_PETIMAGES_URL", server.url("/missing.zip"))
    at = open_page(PAGE)
    at.button(key="download_petimages").click().run()
    assert not at.exception
    assert "Download failed" in texts(at.error) and "404" in texts(at.error)


def test_corrupt_download_is_reported(data, server, monkeypatch):
    server.routes["/pets.zip"] = Route(b"<html>oops</html>" * 50)
    monkeypatch.setenv("SOFTMAX_PETIMAGES_URL", server.url("/pets.zip"))
    at = open_page(PAGE)
    at.button(key="download_petimages").click().run()
    assert "not a usable zip" in texts(at.error)
    assert "kaggle-cats-and-dogs" not in visible(data)


def test_a_dataset_removed_while_the_page_is_open(data):
    make_kaggle_folder(data / "kaggle", per_class=4)
    make_class_folders(data / "other", per_class=3)
    at = open_page(PAGE)
    at.selectbox(key="dataset").set_value("other").run()
    shutil.rmtree(data / "other")
    at.run()
    assert not at.exception
    assert "'other' is no longer in the data folder" in texts(at.warning)
    assert at.selectbox(key="dataset").value == "kaggle"
