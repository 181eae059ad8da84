"""Two students on one real server: nothing of one session shows in the other.

Two browser contexts are two Streamlit sessions (separate websockets, separate
st.session_state). Alice trains, uploads a photo and edits the Explain state; Bob
must see none of it, and Bob's own work must not leak back into Alice's pages.

By design the data folder is shared (datasets, and models saved to data/.models are
offered to everyone as "Saved: ..."): see the README's Security section. What must stay private is
session state: the model trained in a session, its results, uploads and URL state.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest

from harness.images import CLASS_COLORS, encode, make_image, make_kaggle_folder
from tests.support import go as _go
from tests.support import open_session, wait_idle

pytestmark = pytest.mark.e2e
SESSION_MODEL = "Trained in this session"


def _upload_photo(pg, name: str, colour) -> None:
    uploader = pg.get_by_test_id("stFileUploader").filter(has_text="Images to classify")
    uploader.get_by_test_id("stFileUploaderDropzoneInput").set_input_files(
        {"name": name, "mimeType": "image/png", "buffer": encode(make_image(colour), ".png")}
    )
    wait_idle(pg)
    pg.get_by_text(name).first.wait_for()


def _model_options(pg) -> list[str]:
    box = pg.get_by_role("combobox", name="Model")
    if box.count() == 0:
        return []
    box.click()
    options = [o.inner_text() for o in pg.get_by_role("option").all()]
    pg.keyboard.press("Escape")
    return options


def _body(pg) -> str:
    return pg.locator("body").inner_text()


def test_two_sessions_never_see_each_others_model_uploads_or_url_state(browser, app_server):
    make_kaggle_folder(Path(os.environ["SOFTMAX_DATA_DIR"]) / "pets", per_class=16)

    # Alice trains, classifies a private photo and renames a class on the Explain page.
    alice = open_session(browser, app_server.url, "Train")
    alice.get_by_role("button", name="Train", exact=True).click()
    wait_idle(alice, timeout=90_000)
    alice.get_by_text("Results on pets").wait_for(timeout=90_000)
    _go(alice, "Classify")
    assert any(o.startswith(SESSION_MODEL) for o in _model_options(alice))
    _upload_photo(alice, "alice-private-cat.png", CLASS_COLORS["cat"])
    _go(alice, "Explain")
    name = alice.get_by_label("Class 1 name")
    name.fill("alice-secret-class")
    name.press("Enter")
    wait_idle(alice)
    assert "alice-secret-class" in parse_qs(urlparse(alice.url).query)["classes"][0]

    # Bob, on the same server at the same time, sees none of it.
    bob = open_session(browser, app_server.url, "Train")
    assert bob.get_by_text("Results on pets").count() == 0  # Alice's run is hers
    _go(bob, "Classify")
    options = _model_options(bob)
    assert not any(o.startswith(SESSION_MODEL) for o in options)
    assert all(o.startswith("Saved: ") for o in options)  # only the shared folder's models
    assert "alice-private-cat" not in _body(bob)
    _upload_photo(bob, "bob-private-dog.png", CLASS_COLORS["dog"])
    assert "alice-private-cat" not in _body(bob)
    _go(bob, "Explain")
    assert "alice-secret-class" not in _body(bob)
    assert "alice" not in bob.url
    assert bob.get_by_label("Class 1 name").input_value() == "dog"
    bob_name = bob.get_by_label("Class 1 name")
    bob_name.fill("bob-class")
    bob_name.press("Enter")
    wait_idle(bob)

    # And nothing of Bob's came back into Alice's session.
    thumb = alice.get_by_role("slider", name="score of airplane")
    thumb.focus()  # any rerun of Alice's page
    thumb.press("ArrowRight")
    wait_idle(alice)
    assert alice.get_by_label("Class 1 name").input_value() == "alice-secret-class"
    assert "bob" not in _body(alice) and "bob" not in alice.url
    _go(alice, "Classify")
    assert any(o.startswith(SESSION_MODEL) for o in _model_options(alice))
    assert "bob-private-dog" not in _body(alice)
    for pg in (alice, bob):
        assert pg.get_by_test_id("stException").count() == 0
        assert not re.search(r"Traceback", _body(pg))
        pg.context.close()
