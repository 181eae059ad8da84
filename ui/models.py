"""The model picker: the model trained in this session, a saved one, or a model file.

Saved models are offered trained-on-real-photos first, then newest first, each described
by what tells two apart (dataset, settings, accuracy, time), never by a hash. An uploaded
model file is parsed once (by the hash of its bytes), not on every rerun.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import streamlit as st

from core.learn.model import MODEL_MAX_BYTES, ModelFormatError, SavedModel
from core.learn.saved import describe, is_synthetic, list_saved_models
from core.text import md

SESSION = "session"  # the option id of the session's own model
_UPLOAD = "_model_file_parsed"  # (sha256 of the bytes, SavedModel or the refusal's text)


@dataclass(frozen=True, eq=False)
class Choice:
    model: SavedModel
    label: str  # plain text: dataset, settings, accuracy, time

    @property
    def synthetic(self) -> bool:
        return is_synthetic(self.model)

    @property
    def key(self) -> str:
        """Identifies the model's numbers (results for one model are not shown for another)."""
        return hashlib.sha256(self.model.to_bytes()).hexdigest()[:16]


def choose_model() -> Choice | None:
    """Draw the picker; the chosen model, or None when there is none at all."""
    options: dict[str, Choice] = {}
    session_model = st.session_state.get("trained_model")
    if isinstance(session_model, SavedModel):
        options[SESSION] = Choice(session_model, "Trained in this session: " + describe(session_model))
    problems: list = []
    for entry in list_saved_models(problems):
        options[entry.path.name] = Choice(entry.model, "Saved: " + entry.label)
    for path, reason in problems:
        st.warning(f"Saved model '{md(path.name)}' was skipped: {md(reason)}.")
    uploaded = _uploaded_model()
    if uploaded is not None:
        return uploaded
    if not options:
        return None
    ids = list(options)
    if st.session_state.get("saved_model") not in ids:
        st.session_state["saved_model"] = ids[0]
    chosen = st.selectbox(
        "Model",
        ids,
        format_func=lambda i: options[i].label,
        key="saved_model",
        help="This session's model first, then saved models: trained on real photos first, newest first.",
    )
    return options[chosen]


def _uploaded_model() -> Choice | None:
    with st.expander("Use a model file instead (downloaded from the Train page)"):
        up = st.file_uploader(
            "Model file (.npz)", type=["npz"], key="model_file", max_upload_size=MODEL_MAX_BYTES // 2**20
        )
    if up is None:
        return None
    if up.size > MODEL_MAX_BYTES:  # the browser's limit can be bypassed; this one cannot
        st.error(
            f"Model file '{md(up.name)}' is over {MODEL_MAX_BYTES // 2**20} MB: it cannot be a model of this app."
        )
        return None
    data = up.getvalue()
    digest = hashlib.sha256(data).hexdigest()
    known = st.session_state.get(_UPLOAD)
    if not known or known[0] != digest:
        try:
            parsed: SavedModel | str = SavedModel.from_bytes(data)
        except ModelFormatError as exc:
            parsed = str(exc)
        st.session_state[_UPLOAD] = known = (digest, parsed)
    if isinstance(known[1], str):
        st.error(f"Model file '{md(up.name)}' cannot be used: {md(known[1])}.")
        return None
    st.success("Using the uploaded model file.")
    return Choice(known[1], f"Uploaded: {describe(known[1])}")
