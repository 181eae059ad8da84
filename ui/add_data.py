"""Adding data to the data folder: download the Kaggle Cats and Dogs photos, upload a
dataset zip (key "dataset_zip"), or make the synthetic demo set.

A dataset just added is selected on the next run (`take_pending`), and its message is
shown after the rerun that lists it (`show_flash`).
"""

from __future__ import annotations

import time
from pathlib import Path

import streamlit as st

from core.data.archive import ArchiveError, ExtractReport, Limits
from core.data.demo import make_demo_dataset
from core.data.download import (
    PETIMAGES_MB,
    PETIMAGES_NAME,
    DownloadError,
    fetch_petimages,
    partial_bytes,
    petimages_url,
)
from core.data.library import import_zip
from core.text import code, md

UPLOAD_KEY = "dataset_zip"
_PENDING = "_dataset_pending"  # a dataset just added: select it on the next run
_FLASH = "_dataset_flash"  # messages that must survive the st.rerun after adding one
_IMPORTED = "_dataset_zips_imported"  # upload ids already unpacked (the uploader keeps them)


def take_pending() -> str | None:
    """The name of a dataset added on the previous run, once."""
    return st.session_state.pop(_PENDING, None)


def panel(root: Path) -> None:
    """The "Add data" tabs: download, upload a zip, make the synthetic demo."""
    download, upload, demo = st.tabs(["Download", "Upload a zip", "Synthetic demo"])
    with download:
        _download_tab(root)
    with upload:
        _upload_tab(root)
    with demo:
        _demo_tab(root)


def _download_tab(root: Path) -> None:
    there = (root / PETIMAGES_NAME).is_dir()
    st.caption(
        "Microsoft's copy of the Kaggle Cats and Dogs photos (25,000 JPEGs in "
        "PetImages/Cat and PetImages/Dog; the empty and non-image files it ships are "
        f"skipped and counted). From {code(petimages_url())} (SOFTMAX\\_PETIMAGES\\_URL)."
    )
    done = partial_bytes(root)
    if done and not there:
        st.caption(f"{done / 1e6:,.0f} MB were downloaded before: the button resumes from there.")
    clicked = st.button(
        f"Download Kaggle Cats and Dogs (~{PETIMAGES_MB} MB)",
        key="download_petimages",
        disabled=there,
        icon=":material/download:",
    )
    if there:
        st.caption(f"Already in the data folder as '{PETIMAGES_NAME}'.")
    elif clicked:
        _run_download(root)


def _run_download(root: Path) -> None:
    bar = st.progress(0.0, text="Connecting…")
    show = _throttled(bar)
    started, first = time.monotonic(), [None]

    def on_bytes(done: int, total: int | None) -> None:
        first[0] = done if first[0] is None else first[0]
        rate = (done - first[0]) / 1e6 / max(time.monotonic() - started, 1e-3)
        of = f" of {total / 1e6:,.0f}" if total else ""
        show(done / total if total else 0.0, f"Downloading: {done / 1e6:,.0f}{of} MB ({rate:.1f} MB/s)")

    def on_files(done: int, total: int) -> None:
        show(done / max(total, 1), f"Unpacking: {done:,} of {total:,} files")

    try:
        result = fetch_petimages(root, progress=on_bytes, extract_progress=on_files)
    except DownloadError as exc:
        bar.empty()
        st.error(f"Download failed: {exc}")
        return
    except OSError as exc:
        bar.empty()
        st.error(f"Cannot write to the data folder {root}: {exc.strerror or exc}")
        return
    bar.empty()
    _added(PETIMAGES_NAME, "success", _petimages_message(result.report))


def _petimages_message(report: ExtractReport | None) -> str:
    if report is None:
        return f"'{PETIMAGES_NAME}' was already in the data folder."
    others = len(report.skipped) - report.bad_images
    return (
        f"Downloaded and unpacked {report.extracted:,} images as '{PETIMAGES_NAME}'. "
        f"Skipped {report.bad_images:,} empty or unreadable image files (Microsoft's zip "
        f"ships some) and {others:,} files that are not images."
    )


def _throttled(bar, every: float = 0.2):
    """A progress writer that redraws at most every `every` seconds (and at 100%)."""
    last = [0.0]

    def show(fraction: float, text: str) -> None:
        now = time.monotonic()
        if now - last[0] >= every or fraction >= 1.0:
            last[0] = now
            bar.progress(min(max(fraction, 0.0), 1.0), text=text)

    return show


def _upload_tab(root: Path) -> None:
    limits = _limits_text()
    uploaded = st.file_uploader(
        "A zip of a dataset",
        type=["zip"],
        key=UPLOAD_KEY,
        help="Layouts: cat.0.jpg-style files, one folder per class, or PetImages/Cat|Dog.",
    )
    st.caption(
        "The zip may hold files named like `cat.0.jpg`, one folder per class, or "
        f"`PetImages/Cat` and `PetImages/Dog`. Only images are unpacked. Limits: {limits}."
    )
    done = st.session_state.setdefault(_IMPORTED, set())
    if uploaded is not None and uploaded.file_id not in done:
        done.add(uploaded.file_id)  # once only: the uploader hands the file back every run
        _import_upload(root, uploaded)


def _limits_text() -> str:
    try:
        lim = Limits.from_env()
    except ArchiveError as exc:
        return f"misconfigured ({exc})"
    return (
        f"{lim.max_files:,} files (SOFTMAX_MAX_ZIP_FILES), "
        f"{lim.max_total_bytes / 1e6:,.0f} MB unpacked (SOFTMAX_MAX_ZIP_BYTES)"
    )


def _import_upload(root: Path, uploaded) -> None:
    shown = md(uploaded.name)
    try:
        with st.spinner(f"Unpacking {shown}…"):
            result = import_zip(uploaded, uploaded.name, root)
    except ArchiveError as exc:
        st.error(f"{shown} was not imported. {md(str(exc))}")
        return
    except OSError as exc:
        st.error(f"Cannot write to the data folder {root}: {exc.strerror or exc}")
        return
    summary = f"Unpacked {result.report.extracted:,} images from {shown} as '{result.name}'"
    summary += _skip_summary(result.report)
    if result.problem:
        st.warning(f"{summary}, but it is not a usable dataset yet: {md(result.problem)}")
        return
    _added(result.name, "success", summary + ".")


def _skip_summary(report: ExtractReport) -> str:
    reasons = report.skipped_reasons()
    if not reasons:
        return ""
    return " (skipped: " + "; ".join(f"{n:,} {r}" for r, n in reasons.items()) + ")"


def _demo_tab(root: Path) -> None:
    st.caption(
        "120 generated 64x64 images in three made-up colour classes (warm, green, blue), "
        "clearly marked synthetic: for trying the page offline in seconds, not for the "
        "post's experiment."
    )
    if st.button("Make a synthetic demo set", key="make_demo", icon=":material/science:"):
        try:
            path = make_demo_dataset(root)
        except OSError as exc:
            st.error(f"Could not make the demo set: {exc}")
            return
        _added(path.name, "success", f"Made the synthetic demo set '{path.name}'.")


def _added(name: str, kind: str, message: str) -> None:
    """Select the new dataset and show message after the rerun that lists it."""
    st.session_state[_PENDING] = name
    st.session_state.setdefault(_FLASH, []).append((kind, message))
    st.rerun()


def show_flash() -> None:
    """The messages of a dataset just added (they must survive the rerun that lists it)."""
    for kind, message in st.session_state.pop(_FLASH, []):
        getattr(st, kind)(message)
