"""Deep links on a fresh server go through the router (not Streamlit's pages-folder mode)."""

import pytest

from tests.support import wait_idle

pytestmark = pytest.mark.e2e


# Explain is the default page: Streamlit serves it at "/", not "/explain".
@pytest.mark.parametrize(
    "path,title",
    [("train", "Train"), ("classify", "Classify"), ("playground", "Playground"), ("", "Explain")],
)
def test_a_deep_link_on_a_fresh_server_shows_the_apps_navigation(page, app_server, path, title):
    page.goto(f"{app_server.url}/{path}")
    wait_idle(page, 60_000)
    nav = page.locator("[data-testid='stSidebarNav']")
    nav.get_by_text(title, exact=True).wait_for()
    links = nav.inner_text()
    assert "streamlit app" not in links.lower(), links  # the file-name listing
    assert page.locator("h1").first.inner_text().startswith(title)
    assert "PyImageSearch post" in page.locator("[data-testid='stSidebar']").inner_text()
    # and the other pages are one click away
    other = "Explain" if title != "Explain" else "Train"
    nav.get_by_text(other, exact=True).click()
    wait_idle(page, 60_000)
    assert page.locator("h1").first.inner_text().startswith(other)
