"""Where the data comes from: pick a dataset in the data folder, or add one.

`pick_dataset()` renders a select box (key "dataset") over the datasets in the data
folder and an "Add data" expander: download Microsoft's Kaggle Cats and Dogs, upload a
zip (key "dataset_zip"), or make the synthetic demo set. It returns the chosen
`core.library.DatasetInfo`, or None when nothing is available. Users never type a
server path: only folders inside SOFTMAX_DATA_DIR are offered.
"""

from __future__ import annotations

import os
import re
import time
from pathlib import Path

import streamlit as st

from core import paths
from core.archive import ArchiveError, ExtractReport, Limits
from core.demo import make_demo_dataset
from core.download import (
    PETIMAGES_MB,
    PETIMAGES_NAME,
    DownloadError,
    fetch_petimages,
    partial_bytes,
    petimages_url,
)
from core.library import DatasetInfo, import_zip, list_datasets

KEY = "dataset"
UPLOAD_KEY = "dataset_zip"
_PENDING = "_dataset_pending"  # a dataset just added: select it on the next run
_FLASH = "_dataset_flash"  # messages that must survive the st.rerun after adding one
_IMPORTED = "_dataset_zips_imported"  # upload ids already unpacked (the uploader keeps them)
SYNTHETIC_WARNING = (
    "This is synthetic demo data, not the Dogs vs Cats experiment: "
    "its results say nothing about the post's numbers."
)


def pick_dataset(auto_demo: bool = True) -> DatasetInfo | None:
    """The dataset the user chose in the data folder, or None when there is none."""
    root = paths.data_dir()
    _show_flash()
    if auto_demo and _is_empty(root):
        _auto_demo(root)
    try:
        infos, problems = list_datasets(root)
    except OSError as exc:
        st.error(f"Cannot read the data folder {root}: {exc.strerror or exc}")
        infos, problems = [], []
    choice = _select(infos)
    _caption(root, problems)
    with st.expander("Add data", expanded=not infos):
        _add_data(root)
    if choice is not None and choice.synthetic:
        st.warning(SYNTHETIC_WARNING, icon=":material/science:")
    return choice


# ---- choosing ------------------------------------------------------------------------


def _select(infos: list[DatasetInfo]) -> DatasetInfo | None:
    by_name = {info.name: info for info in infos}
    pending = st.session_state.pop(_PENDING, None)
    if pending in by_name:
        st.session_state[KEY] = pending
    current = st.session_state.get(KEY)
    if current is not None and current not in by_name:
        st.warning(f"The dataset '{current}' is no longer in the data folder: choose another.")
        del st.session_state[KEY]
    if not infos:
        st.info(
            "No datasets in the data folder yet: add one under **Add data** below "
            "(download Kaggle Cats and Dogs, upload a zip, or make the synthetic demo)."
        )
        return None
    if KEY not in st.session_state:
        st.session_state[KEY] = _default(infos).name
    name = st.selectbox(
        "Dataset",
        list(by_name),
        format_func=lambda n: by_name[n].label,
        key=KEY,
        help="Each folder in the data folder that holds images of two or more classes.",
    )
    return by_name[name]


def _default(infos: list[DatasetInfo]) -> DatasetInfo:
    """The post's experiment if it is there, else any real dataset, else the demo."""
    for info in infos:
        if info.name == PETIMAGES_NAME:
            return info
    return next((i for i in infos if not i.synthetic), infos[0])


def _caption(root: Path, problems: list[str]) -> None:
    if os.environ.get("SOFTMAX_DATA_DIR"):
        where = "set by SOFTMAX_DATA_DIR"
    else:
        where = "the default ./data; set SOFTMAX_DATA_DIR to use another folder"
    st.caption(f"Data folder: `{_code(str(root))}` ({_md(where)}). Each folder inside it is a dataset.")
    if problems:
        lines = "\n".join(f"- {_md(p)}" for p in problems)
        st.warning(f"Folders in the data folder that are not usable datasets:\n{lines}")


def _code(text: str) -> str:
    """Text for inside `backticks` (where Markdown escapes would show)."""
    return text.replace("`", "'")


def _md(text: str) -> str:
    """Text shown as itself, not as Markdown (folder names may hold * or _)."""
    return re.sub(r"([\\`*_{}\[\]<>()#+!|~$])", r"\\\1", text)


# ---- adding --------------------------------------------------------------------------


def _add_data(root: Path) -> None:
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
        f"skipped and counted). From `{_code(petimages_url())}` (SOFTMAX\\_PETIMAGES\\_URL)."
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
    shown = _md(uploaded.name)
    try:
        with st.spinner(f"Unpacking {shown}…"):
            result = import_zip(uploaded, uploaded.name, root)
    except ArchiveError as exc:
        st.error(f"{shown} was not imported. {_md(str(exc))}")
        return
    except OSError as exc:
        st.error(f"Cannot write to the data folder {root}: {exc.strerror or exc}")
        return
    summary = f"Unpacked {result.report.extracted:,} images from {shown} as '{result.name}'"
    summary += _skip_summary(result.report)
    if result.problem:
        st.warning(f"{summary}, but it is not a usable dataset yet: {_md(result.problem)}")
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


def _is_empty(root: Path) -> bool:
    try:
        return not any(not e.name.startswith(".") for e in os.scandir(root))
    except FileNotFoundError:
        return True
    except OSError:
        return False


def _auto_demo(root: Path) -> None:
    try:
        make_demo_dataset(root)
    except OSError as exc:
        st.error(f"The data folder {root} is empty and the demo set could not be made: {exc}")
        return
    st.info(
        "The data folder was empty, so the app made a small **synthetic** demo set to try "
        "the page offline. For the post's experiment, use **Add data → Download**."
    )


def _added(name: str, kind: str, message: str) -> None:
    """Select the new dataset and show message after the rerun that lists it."""
    st.session_state[_PENDING] = name
    st.session_state.setdefault(_FLASH, []).append((kind, message))
    st.rerun()


def _show_flash() -> None:
    for kind, message in st.session_state.pop(_FLASH, []):
        getattr(st, kind)(message)
