"""The router opens on Explain, and every page renders without an exception."""

import pytest

from harness.apptest import open_page


def test_router_opens_on_the_explain_page_with_the_shared_sidebar():
    at = open_page()
    assert not at.exception, [e.value for e in at.exception]
    assert at.title[0].value.startswith("Explain")
    assert "Softmax Classifiers Explained" in at.sidebar.caption[0].value


@pytest.mark.parametrize(
    "page,title",
    [
        ("pages/explain.py", "Explain"),
        ("pages/train.py", "Train"),
        ("pages/classify.py", "Classify"),
        ("pages/playground.py", "Playground"),
    ],
)
def test_every_page_renders(page, title):
    at = open_page(page)
    assert not at.exception, [e.value for e in at.exception]
    assert at.title and at.title[0].value.startswith(title)


def test_moving_between_pages_and_back():
    at = open_page("pages/train.py")
    for page in (
        "pages/classify.py",
        "pages/playground.py",
        "pages/explain.py",
        "pages/train.py",
        "pages/explain.py",
    ):
        at.switch_page(page).run()
        assert not at.exception, (page, [e.value for e in at.exception])
    assert at.title[0].value.startswith("Explain")
