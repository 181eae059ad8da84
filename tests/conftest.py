"""Fixtures every test folder shares: its own data and cache folders, clean Streamlit
caches, the real Kaggle sample (when present), one chromium, a real app server."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from harness.browser import launch_options
from tests.support import KAGGLE_SAMPLE, Server, need_browser


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
    """One Debian chromium for the whole run (sync Playwright cannot start twice in a process)."""
    need_browser()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(**launch_options())
        yield b
        b.close()


@pytest.fixture
def app_server(isolated_dirs):
    """A fresh server per test, with the test's own data dir and cache."""
    server = Server(
        {
            "SOFTMAX_DATA_DIR": os.environ["SOFTMAX_DATA_DIR"],
            "SOFTMAX_CACHE_DIR": os.environ["SOFTMAX_CACHE_DIR"],
        }
    )
    yield server
    server.stop()


@pytest.fixture
def page(browser, app_server):
    ctx = browser.new_context(viewport={"width": 1400, "height": 1000})
    pg = ctx.new_page()
    pg.set_default_timeout(30_000)
    yield pg
    ctx.close()


def pytest_collection_modifyitems(items):
    """Every test that drives a real browser is an e2e test (`-m "not e2e"` skips them all)."""
    for item in items:
        if {"browser", "page"} & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.e2e)
