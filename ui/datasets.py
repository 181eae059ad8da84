"""The dataset picker: a select box (key "dataset") over the datasets in the data folder.

`pick_dataset()` also draws the "Add data" expander (ui.add_data) and returns the chosen
`core.data.library.DatasetInfo`, or None when nothing is available. Users never type a
server path: only folders inside SOFTMAX_DATA_DIR are offered, by name.
"""

from __future__ import annotations

import os
from pathlib import Path

import streamlit as st

from core import paths
from core.data.demo import make_demo_dataset
from core.data.library import DatasetInfo, list_datasets, preferred_dataset
from core.text import code, md
from ui import add_data

KEY = "dataset"
SYNTHETIC_WARNING = "This is synthetic demo data, not the Dogs vs Cats experiment: its results say nothing about the post's numbers."


def pick_dataset(auto_demo: bool = True) -> DatasetInfo | None:
    """The dataset the user chose in the data folder, or None when there is none."""
    root = paths.data_dir()
    add_data.show_flash()
    if auto_demo and _is_empty(root):
        _auto_demo(root)
    try:
        infos, problems = list_datasets(root)
    except OSError as exc:
        st.error(f"Cannot read the data folder {root}: {md(exc.strerror or exc)}")
        infos, problems = [], []
    choice = _select(infos)
    _caption(root, problems)
    with st.expander("Add data", expanded=not infos):
        add_data.panel(root)
    if choice is not None and choice.synthetic:
        st.warning(SYNTHETIC_WARNING, icon=":material/science:")
    return choice


def _select(infos: list[DatasetInfo]) -> DatasetInfo | None:
    by_name = {info.name: info for info in infos}
    pending = add_data.take_pending()
    if pending in by_name:
        st.session_state[KEY] = pending
    current = st.session_state.get(KEY)
    if current is not None and current not in by_name:
        st.warning(f"The dataset '{md(current)}' is no longer in the data folder: choose another.")
        del st.session_state[KEY]
    if not infos:
        st.info(
            "No datasets in the data folder yet: add one under **Add data** below "
            "(download Kaggle Cats and Dogs, upload a zip, or make the synthetic demo)."
        )
        return None
    if KEY not in st.session_state:
        st.session_state[KEY] = preferred_dataset(infos).name
    name = st.selectbox(
        "Dataset",
        list(by_name),
        format_func=lambda n: by_name[n].label,
        key=KEY,
        help="Each folder in the data folder that holds images of two or more classes.",
    )
    return by_name[name]


def _caption(root: Path, problems: list[str]) -> None:
    where = (
        "set by SOFTMAX\\_DATA\\_DIR"
        if os.environ.get("SOFTMAX_DATA_DIR")
        else "the default ./data; set SOFTMAX\\_DATA\\_DIR to use another folder"
    )
    st.caption(f"Data folder: {code(root)} ({where}). Each folder inside it is a dataset.")
    if problems:
        lines = "\n".join(f"- {md(p)}" for p in problems)
        st.warning(f"Folders in the data folder that are not usable datasets:\n{lines}")


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
        st.error(f"The data folder {md(root)} is empty and the demo set could not be made: {md(exc)}")
        return
    st.info(
        "The data folder was empty, so the app made a small **synthetic** demo set to try "
        "the page offline. For the post's experiment, use **Add data → Download**."
    )
