import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
KAGGLE_SAMPLE = Path(
    os.environ.get("SOFTMAX_SAMPLE_DIR", ROOT.parent / "shared" / "data" / "kaggle-sample")
)


@pytest.fixture
def kaggle_sample() -> Path:
    """The 1,000 real Kaggle images in ../shared/data (never copied into the repo)."""
    if not KAGGLE_SAMPLE.is_dir() or not any(KAGGLE_SAMPLE.iterdir()):
        pytest.skip(f"real Kaggle sample not found at {KAGGLE_SAMPLE} (set SOFTMAX_SAMPLE_DIR)")
    return KAGGLE_SAMPLE


@pytest.fixture(autouse=True)
def isolated_dirs(tmp_path_factory, monkeypatch):
    """Each test gets its own data dir and feature cache: no test sees another's files."""
    base = tmp_path_factory.mktemp("app")
    monkeypatch.setenv("SOFTMAX_DATA_DIR", str(base / "data"))
    monkeypatch.setenv("SOFTMAX_CACHE_DIR", str(base / "cache"))
    (base / "data").mkdir()
    return base


@pytest.fixture(autouse=True)
def clear_streamlit_caches():
    """No st.cache result of one test leaks into the next AppTest."""
    import streamlit as st

    st.cache_data.clear()
    st.cache_resource.clear()
    yield
    st.cache_data.clear()
    st.cache_resource.clear()


@pytest.fixture(scope="session")
def browser():
    """One Debian chromium for the whole run: sync Playwright cannot start twice in a
    process, so every folder's browser tests share this one (see tests/e2e/conftest.py)."""
    from tests.e2e.conftest import CHROMIUM, _need_browser

    _need_browser()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run",
                  "--disable-quic"],
        )
        yield b
        b.close()
