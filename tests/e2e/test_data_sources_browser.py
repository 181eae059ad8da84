"""A real browser: the empty data folder's demo, a zip upload, and the download button."""

from __future__ import annotations

import os
import re
import threading
import zipfile
from http.server import ThreadingHTTPServer
from pathlib import Path

import pytest

from harness.images import encode, make_image
from tests.support import ARTIFACTS, wait_idle
from tests.unit.test_download import Handler, Route, petimages_zip

pytestmark = pytest.mark.e2e


@pytest.fixture
def pets_server(monkeypatch):
    """A local mirror of Microsoft's zip; set before the app server starts, so it inherits it."""
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.routes = {"/pets.zip": Route(petimages_zip(), drops=1)}
    httpd.log, httpd.daemon_threads = [], True
    threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True).start()
    monkeypatch.setenv("SOFTMAX_PETIMAGES_URL", f"http://127.0.0.1:{httpd.server_address[1]}/pets.zip")
    yield httpd
    httpd.shutdown()
    httpd.server_close()


def _open_tab(page, name: str) -> None:
    expander = page.get_by_test_id("stExpander").filter(has_text="Add data")
    if not expander.get_by_role("tab", name=name).is_visible():
        expander.locator("summary").click()
    expander.get_by_role("tab", name=name).click()


def test_demo_upload_and_download_journey(pets_server, page, app_server, tmp_path):
    data = Path(os.environ["SOFTMAX_DATA_DIR"])
    page.goto(app_server.url + "/train")
    wait_idle(page)

    # an empty data folder: the page makes the demo set and says it is synthetic
    page.get_by_text("synthetic demo data, not the Dogs vs Cats experiment").wait_for()
    box = page.get_by_role("combobox", name="Dataset")
    assert box.input_value() == "synthetic-demo — 120 images, 3 classes (synthetic demo)"

    # upload a zip of class folders
    zpath = tmp_path / "Garden Birds.zip"
    with zipfile.ZipFile(zpath, "w") as zf:
        for cls, colour in (("robin", (30, 60, 200)), ("tit", (200, 120, 30))):
            for i in range(4):
                zf.writestr(f"birds/{cls}/{i}.jpg", encode(make_image(colour, seed=i)))
    _open_tab(page, "Upload a zip")
    page.get_by_test_id("stFileUploaderDropzoneInput").set_input_files(str(zpath))
    wait_idle(page)
    page.get_by_text(re.compile("Unpacked 8 images from Garden Birds.zip")).wait_for()
    assert box.input_value() == "garden-birds — 8 images, 2 classes"
    assert (data / "garden-birds" / "robin" / "0.jpg").is_file()

    # download the (local) Kaggle Cats and Dogs, with a dropped connection on the way
    _open_tab(page, "Download")
    page.get_by_role("button", name=re.compile("Download Kaggle Cats and Dogs")).click()
    wait_idle(page, timeout=60_000)
    page.get_by_text(re.compile("Downloaded and unpacked 8 images")).wait_for()
    assert box.input_value() == "kaggle-cats-and-dogs — 8 images, 2 classes"
    assert len(pets_server.log) == 2 and pets_server.log[1][1]  # resumed with a Range
    assert page.get_by_text("synthetic demo data, not the Dogs vs Cats experiment").count() == 0
    assert page.get_by_test_id("stException").count() == 0
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "data_sources.png"), full_page=True)
