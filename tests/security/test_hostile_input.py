"""Hostile input through the real app: each gets a clear message and the app keeps working.

Already covered elsewhere and not repeated here: zip slip, absolute paths, bombs, empty
and non-zips through the Train page (tests/app/test_data_sources.py); text, empty,
truncated, 20000x20000 PNG and GIF uploads on Classify (tests/app/test_classify.py);
hostile archives, names and limits in core (tests/unit/test_archive.py, test_library.py);
broken Explain links (tests/app/test_explain.py, tests/e2e/test_explain_browser.py).

Here: dataset names that are paths or point outside the data folder, reaching the app
through its session state; files that lie about their type or claim absurd sizes;
hostile file and class names (markup, traversal, length); absurd query parameters on
every page; symlinks and Windows-style escapes in an uploaded zip; an upload over the
per-widget limit. The last group runs in a real browser against `streamlit run`.
"""

from __future__ import annotations

import io
import os
import re
import struct
import zipfile
import zlib
from pathlib import Path
from urllib.parse import quote

import numpy as np
import pytest

from core.explain.state import MAX_CLASSES
from harness.apptest import APP, open_page
from harness.images import CLASS_COLORS, encode, make_class_folders, make_image, make_kaggle_folder
from tests.security.conftest import classify_page
from tests.support import rendered, wait_idle

SECRET = "TOP-SECRET-OUTSIDE-THE-DATA-DIR"


def texts(elements) -> str:
    """What the elements say, as a reader sees it (user-supplied strings are escaped)."""
    return "\n".join(rendered(str(e.value)) for e in elements)


def everything(at) -> str:
    """All the text an AppTest page shows."""
    kinds = ("title", "markdown", "caption", "error", "warning", "info", "success", "latex", "code")
    return "\n".join(texts(getattr(at, k)) for k in kinds)


@pytest.fixture
def data() -> Path:
    return Path(os.environ["SOFTMAX_DATA_DIR"])


@pytest.fixture
def outside(tmp_path) -> Path:
    """A dataset outside the data dir, with a secret in a file name and a text file."""
    root = make_class_folders(tmp_path / "outside" / "secret-set", per_class=4)
    (root / "cat" / f"{SECRET}.jpg").write_bytes(encode(make_image()))
    (tmp_path / "outside" / "passwd").write_text(f"root:x:0:0:{SECRET}\n")
    return root


# ---------------------------------------------------------------- dataset names and paths


def _option_names(at) -> list[str]:
    return [o.split(" — ")[0] for o in at.selectbox(key="dataset").options]


def test_a_symlink_planted_in_the_data_dir_is_never_offered_or_read(data, outside):
    make_kaggle_folder(data / "pets", per_class=6)
    (data / "linked").symlink_to(outside, target_is_directory=True)  # planted by another user
    (data / "up").symlink_to(data.parent, target_is_directory=True)
    at = open_page("pages/train.py")
    assert not at.exception
    assert _option_names(at) == ["pets"]
    assert SECRET not in everything(at)


def test_a_dataset_swapped_for_a_symlink_after_it_was_chosen_is_refused(data, outside):
    """Time of check, time of use: the folder the user chose is replaced by a link outside."""
    pets = make_kaggle_folder(data / "pets", per_class=6)
    make_kaggle_folder(data / "birds", per_class=6, classes=("bird", "dog"))
    at = open_page("pages/train.py")
    at.selectbox(key="dataset").select("pets — 12 images, 2 classes").run()
    for f in pets.iterdir():
        f.unlink()
    pets.rmdir()
    pets.symlink_to(outside, target_is_directory=True)
    at.button(key="train").click().run()
    assert not at.exception
    assert "no longer in the data folder" in texts(at.warning)
    assert "Results on pets" not in texts(at.subheader)
    assert SECRET not in everything(at) and "secret-set" not in everything(at)
    assert _option_names(at) == ["birds"]


# ---------------------------------------------------------------- files that lie


def jpeg_claiming(w: int, h: int) -> bytes:
    """A JPEG whose frame header claims w x h pixels (a decompression bomb's header)."""
    real = encode(make_image(size=(16, 16)))
    i = real.index(b"\xff\xc0")
    return real[: i + 5] + struct.pack(">HH", h, w) + real[i + 9 :]


def png_claiming(w: int, h: int) -> bytes:
    ihdr = struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)
    chunk = lambda t, d: struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d))  # noqa: E731
    idat = zlib.compress(b"\0" * 1024 * 1024)  # 1 MB of zeros: a small file, a huge image
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


def zip_of(*entries) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, content in entries:
            zf.writestr(name, content)
    return buf.getvalue()


LIARS = {
    "bomb-header.jpg": jpeg_claiming(60_000, 60_000),
    "wide.jpg": jpeg_claiming(65_535, 1_000),
    "bomb-body.png": png_claiming(30_000, 30_000),
    "archive.jpg": zip_of(("cat.jpg", encode(make_image()))),
    "page.png": b"<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>",
    "program.jpg": b"MZ\x90\x00" + bytes(200),
    "script.webp": b"#!/bin/sh\nrm -rf /\n",
    "nul.bmp": bytes(4096),
}
NAMES = {  # hostile names on a good image: shown as text, nothing written anywhere
    "../../../../etc/passwd.jpg",
    "<img src=x onerror=alert(1)>.jpg",
    "[click](javascript:alert(1)).jpg",
    "$\\href{javascript:alert(1)}{x}$.jpg",
    "x" * 3000 + ".jpg",
    "..\\..\\win.ini.jpg",
}  # (a NUL in a name cannot come from a browser; Streamlit's own upload state refuses it)


def test_files_that_lie_about_their_type_or_size_each_get_a_reason(tmp_path, data):
    at = classify_page(tmp_path)
    before = sorted(p.name for p in data.rglob("*"))
    up = at.file_uploader(key="uploads")
    for name, blob in LIARS.items():
        up.upload(name, blob, "image/jpeg")
    up.upload("good.jpg", encode(make_image(CLASS_COLORS["dog"])), "image/jpeg")
    at.run()
    assert not at.exception
    errors = texts(at.error)
    for name in LIARS:
        assert re.search(rf"\*\*{re.escape(name)}\*\*: \S", errors), (name, errors)
    assert "60000 x 60000" in errors and "30000 x 30000" in errors  # refused from the header
    # Only good.jpg could be classified: its card, and no table counting the refused files.
    assert len(at.success) == 1 and at.success[0].value.startswith("**dog**")
    assert at.image[0].proto.imgs[0].caption == "good.jpg"
    assert sorted(p.name for p in data.rglob("*")) == before  # nothing was written


def test_hostile_file_names_are_only_shown(tmp_path, data):
    at = classify_page(tmp_path)
    good = encode(make_image(CLASS_COLORS["cat"]))
    up = at.file_uploader(key="uploads")
    for name in NAMES:
        up.upload(name, good, "image/jpeg")
    at.run()
    assert not at.exception and not at.error
    assert len(at.dataframe[0].value) == len(NAMES)
    assert not Path("/etc/passwd.jpg").exists() and not list(data.rglob("*.jpg"))


# ---------------------------------------------------------------- query parameters


ABSURD = [
    {
        "classes": "../../etc/passwd,..%2F..%2Fetc%2Fshadow,%00,<script>alert(1)</script>",
        "scores": "nan,inf,-inf,1e308",
        "target": "-1",
        "base": "../../etc",
        "temperature": "nan",
    },
    {"classes": ",".join(f"c{i}" for i in range(10_000)), "scores": ",".join(["1"] * 10_000)},
    {"classes": "x" * 100_000, "scores": "1e308,-1e308", "target": "1e308", "temperature": "1e308"},
    {"classes": "a,b", "scores": "1,2", "target": "0x1", "temperature": "-0", "base": "e" * 5000},
    {"scores": "1" + ",1" * (MAX_CLASSES + 5), "temperature": "inf"},
]


@pytest.mark.parametrize("params", ABSURD, ids=["traversal-nan", "10k-classes", "huge", "odd", "long"])
def test_absurd_query_parameters_are_repaired_with_a_message(params):
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(APP, default_timeout=30)
    for k, v in params.items():
        at.query_params[k] = v
    at.run()
    assert not at.exception
    assert "repaired" in texts(at.warning)
    state = at.session_state["explain_state"]
    assert 2 <= len(state.classes) <= MAX_CLASSES
    assert all(np.isfinite(state.scores)) and 0 <= state.target < len(state.classes)
    assert "root:x:" not in everything(at)
    at.slider(key="slider_0").set_value(1.5).run()  # and the page keeps working
    assert not at.exception and at.number_input(key="number_0").value == 1.5


# ---------------------------------------------------------------- a real browser


def _dialogs(pg) -> list[str]:
    seen: list[str] = []
    pg.on("dialog", lambda d: (seen.append(d.message), d.dismiss()))
    return seen


@pytest.mark.e2e
def test_hostile_links_on_every_page_in_a_real_browser(page, app_server, data, outside):
    make_kaggle_folder(data / "pets", per_class=4)
    (data / "linked").symlink_to(outside, target_is_directory=True)
    alerts = _dialogs(page)
    evil = quote("../../etc/passwd,<img src=x onerror=alert(1)>,%00", safe=",")
    many = ",".join(f"c{i}" for i in range(10_000))  # ~59 KB of URL
    for path in (
        f"/?classes={evil}&scores=nan,1e308,-inf&target=99999&temperature=-inf&base=..",
        f"/?classes={many}",
        "/train?dataset=..%2Foutside%2Fsecret-set&path=/etc/passwd&dataset=linked",
        "/classify?model=..%2F..%2F.models%2Fx&file=/etc/passwd",
    ):
        page.goto(app_server.url + path)
        page.get_by_test_id("stSidebarNav").wait_for()
        wait_idle(page)
        body = page.locator("body").inner_text()
        assert page.get_by_test_id("stException").count() == 0, path
        assert "root:x:" not in body and SECRET not in body and "secret-set" not in body, path
    page.goto(app_server.url + f"/?classes={many}")
    page.get_by_text("repaired").first.wait_for()
    assert alerts == []


@pytest.mark.e2e
def test_zip_with_symlinks_and_windows_escapes_uploaded_in_a_real_browser(page, app_server, data, tmp_path):
    make_kaggle_folder(data / "pets", per_class=4)
    link = zipfile.ZipInfo("cat/link.jpg")
    link.external_attr = 0o120777 << 16  # a symlink member pointing at /etc/passwd
    zpath = tmp_path / "sneaky.zip"
    with zipfile.ZipFile(zpath, "w") as zf:
        zf.writestr(link, "/etc/passwd")
        zf.writestr("..\\..\\evil.jpg", encode(make_image()))
        zf.writestr("cat/0.jpg", encode(make_image()))
        zf.writestr("dog/0.jpg", encode(make_image()))
    page.goto(app_server.url)
    page.get_by_test_id("stSidebarNav").get_by_role("link", name="Train").click()
    page.get_by_role("combobox", name="Dataset").wait_for()
    wait_idle(page)
    expander = page.get_by_test_id("stExpander").filter(has_text="Add data")
    expander.locator("summary").click()
    expander.get_by_role("tab", name="Upload a zip").click()
    page.get_by_test_id("stFileUploaderDropzoneInput").set_input_files(str(zpath))
    wait_idle(page)
    page.get_by_text(re.compile("sneaky.zip was not imported")).wait_for()
    assert sorted(p.name for p in data.iterdir() if not p.name.startswith(".")) == ["pets"]
    assert not (tmp_path / "evil.jpg").exists() and not (data.parent / "evil.jpg").exists()
    assert page.get_by_test_id("stException").count() == 0


@pytest.mark.e2e
def test_an_upload_over_the_widget_limit_is_refused_and_the_page_works(page, app_server, tmp_path):
    from core.learn.model import MODEL_MAX_BYTES

    MODEL_MB = MODEL_MAX_BYTES // 2**20
    big = tmp_path / "huge-model.npz"
    big.write_bytes(os.urandom((MODEL_MB + 1) * 1024 * 1024))
    alerts = _dialogs(page)
    page.goto(app_server.url)
    page.get_by_test_id("stSidebarNav").get_by_role("link", name="Classify").click()
    wait_idle(page)
    page.get_by_role("button", name="Train a model now").click()  # the synthetic demo model
    wait_idle(page, timeout=60_000)
    page.get_by_text("Use a model file instead").click()
    uploader = page.get_by_test_id("stFileUploader").filter(has_text="Model file")
    uploader.get_by_test_id("stFileUploaderDropzoneInput").set_input_files(str(big))
    wait_idle(page)
    uploader.get_by_text(re.compile(rf"must be {MODEL_MB}(\.0)?MB or smaller")).wait_for()
    assert page.get_by_text("Using the uploaded model file").count() == 0
    # The page still classifies, with hostile names shown as text.
    photos = page.get_by_test_id("stFileUploader").filter(has_text="Images to classify")
    png = encode(make_image(), ".png")
    photos.get_by_test_id("stFileUploaderDropzoneInput").set_input_files(
        [
            {"name": "<img src=x onerror=alert(1)>.png", "mimeType": "image/png", "buffer": png},
            {"name": "[click](javascript:alert(1)).png", "mimeType": "image/png", "buffer": png},
        ]
    )
    wait_idle(page)
    page.get_by_text("2 images, most confident first").wait_for()
    assert page.locator("a[href^='javascript']").count() == 0
    assert page.locator("img[src='x']").count() == 0
    assert page.get_by_test_id("stException").count() == 0
    assert alerts == []
