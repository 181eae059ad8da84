"""The Classify page's images: kept for the session, so a visit to the Explain page (or
any page) and back finds them still there, each classified once per model.

Streamlit forgets an uploader's files when its page is left, so the images are kept here
as they arrive: their bytes, up to a budget per session (a class of students shares one
server's memory), and their results per model. An image removed from the uploader (its
x) is removed here too; an uploader that is empty because the page was just opened
again removes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import streamlit as st

from core.learn.classify import ImageResult, classify_one
from core.learn.model import SavedModel

KEPT = "_classify_kept"  # file id -> KeptImage, in upload order
SEEN = "_classify_uploader_seen"  # file ids the uploader itself has held since it was last drawn anew
BUDGET_BYTES = 64 * 1024 * 1024  # image bytes one session keeps (results are kept regardless)
UPLOADER = "uploads"


@dataclass
class KeptImage:
    file_id: str
    name: str
    data: bytes | None  # None once over the budget: results already made are still shown
    results: dict[str, tuple[ImageResult, dict]] = field(
        default_factory=dict
    )  # model key -> (result, figures)


def _kept() -> dict[str, KeptImage]:
    return st.session_state.setdefault(KEPT, {})


def remember(uploads: list, uploader_was_there: bool, snapshot, camera_was_there: bool) -> list[KeptImage]:
    """Add new uploads (and the camera snapshot) to the kept images; forget those the
    user removed (from an uploader or camera that lived through the last run: one just
    drawn again after a page switch is empty and removes nothing). Oldest first."""
    kept = _kept()
    ids = {u.file_id for u in uploads}
    # Only what this uploader held and no longer holds was removed by the user: images kept
    # from before a page switch were never in it, and a new upload must not drop them.
    seen = st.session_state.get(SEEN, set()) if uploader_was_there else set()
    for file_id in seen - ids:
        kept.pop(file_id, None)
    st.session_state[SEEN] = ids
    if camera_was_there or snapshot is not None:  # a new snapshot replaces the old one
        keep = snapshot.file_id if snapshot is not None else None
        for file_id in [k for k, v in kept.items() if v.name == CAMERA and k != keep]:
            del kept[file_id]
    for u, name in [*((u, u.name) for u in uploads), *([(snapshot, CAMERA)] if snapshot is not None else [])]:
        if u.file_id not in kept:
            used = sum(len(k.data or b"") for k in kept.values())
            data = u.getvalue()
            kept[u.file_id] = KeptImage(u.file_id, name, data if used + len(data) <= BUDGET_BYTES else None)
    return list(kept.values())


CAMERA = "camera snapshot"


def forget_all() -> None:
    st.session_state.pop(KEPT, None)
    st.session_state.pop(SEEN, None)


def classified(model: SavedModel, model_key: str, images: list[KeptImage]) -> list[tuple[ImageResult, dict]]:
    """Each image's result for this model (classified once; a rerun reuses it, and the
    figures already drawn for it: a dict the page's cards fill)."""
    out = []
    for image in images:
        if model_key not in image.results:
            if image.data is None:
                result = ImageResult(
                    name=image.name, error="too many images kept in this session: upload this one again"
                )
            else:
                result = classify_one(model, image.name, image.data)
            image.results = {model_key: (result, {})}  # one model's results at a time
        out.append(image.results[model_key])
    return out
