"""Classify: upload images (or take a photo), see the probabilities and why.

Thin: widgets in, core.classify does the work, core.charts.histogram draws.
"""

from __future__ import annotations

import hashlib

import streamlit as st

from core import classify as cl
from core.charts.histogram import hue_saturation_figure, probability_figure, top_bins_figure
from core.model import list_saved_models
from core.model_store import ModelFormatError, SavedModel
from core.urlstate import encode_state
from ui.router import ensure_router

ensure_router()

IMAGE_MB = 50  # per image: far above any photo; the server's limit is set for dataset zips
MODEL_MB = 5  # a 16x16x16-bin model with 10 classes is ~330 KB
CARDS_MAX = 6  # more images than this: the table, plus the details of the one picked
RESULTS = "_classify_results"  # session cache: (model key, file id) -> (ImageResult, its figures)


# -- which model -------------------------------------------------------------------


def _model_key(model: SavedModel) -> str:
    return hashlib.sha256(model.to_bytes()).hexdigest()[:16]


def _saved_label(path, model: SavedModel) -> str:
    meta = model.meta
    acc = f", test accuracy {meta['accuracy']:.1%}" if isinstance(meta.get("accuracy"), float) else ""
    when = f", {meta['trained_at'][:16].replace('T', ' ')}" if meta.get("trained_at") else ""
    return f"Saved: {path.stem}{acc}{when}"


def _uploaded_model() -> SavedModel | None:
    with st.expander("Use a model file instead (downloaded from the Train page)"):
        up = st.file_uploader("Model file (.npz)", type=["npz"], key="model_file", max_upload_size=MODEL_MB)
    if up is None:
        return None
    try:
        return SavedModel.from_bytes(up.getvalue())
    except ModelFormatError as exc:
        st.error(f"Model file '{up.name}' cannot be used: {exc}.")
        return None


def choose_model() -> SavedModel | None:
    """The session's model, a saved one (newest first), or an uploaded model file."""
    options: list[tuple[str, SavedModel]] = []
    session_model = st.session_state.get("trained_model")
    if isinstance(session_model, SavedModel):
        options.append(("The model trained on the Train page in this session", session_model))
    problems: list = []
    options += [(_saved_label(p, m), m) for p, m in list_saved_models(problems)]
    for path, reason in problems:
        st.warning(f"Saved model '{path.name}' was skipped: {reason}.")
    uploaded = _uploaded_model()
    if uploaded is not None:
        st.success("Using the uploaded model file.")
        return uploaded
    if not options:
        return None
    labels = [label for label, _ in options]
    choice = st.selectbox(
        "Model",
        labels,
        key="saved_model",
        help="The session's model first, then the models saved on disk, newest first.",
    )
    return options[labels.index(choice)][1] if choice in labels else options[0][1]


def describe_model(model: SavedModel) -> None:
    st.caption(cl.model_summary(model))
    if model.meta.get("synthetic") or model.meta.get("dataset") == cl.DEMO_NAME:
        st.warning(
            "This model was trained on the app's **synthetic demo set** (coloured blobs, not "
            "photographs): its answers on real photos mean nothing. Train on Dogs vs Cats on the "
            "Train page for the post's experiment."
        )
    if tuple(model.bins) != cl.DEFAULT_BINS:
        st.info(
            f"This model uses {'x'.join(map(str, model.bins))} histogram bins (today's default is "
            f"{'x'.join(map(str, cl.DEFAULT_BINS))}): each image is described with the model's own bins."
        )


# -- no model yet ------------------------------------------------------------------


def offer_training() -> None:
    st.warning("There is no trained model yet: none in this session and none saved on disk.")
    plan = cl.quick_train_plan()
    if plan is None:
        st.write(
            "The data folder holds no dataset. One click makes the app's **synthetic demo set** "
            "(coloured blobs, not photographs) and trains the post's classifier on it, so you can "
            "try this page offline; its answers on real photos mean nothing."
        )
    else:
        kind = " — **synthetic demo data, not photographs**" if plan.synthetic else ""
        st.write(
            f"One click trains the post's classifier (8x8x8 HSV histogram, SGD with log loss) on "
            f"**{plan.name}** ({plan.n_images:,} images, classes {', '.join(plan.classes)}){kind}."
        )
    if st.button("Train a model now", key="quick_train", type="primary"):
        _quick_train()
    st.page_link(
        "pages/train.py",
        label="Or choose the dataset and settings on the Train page",
        icon=":material/model_training:",
    )


def _quick_train() -> None:
    bar = st.progress(0.0, text="Describing the images...")

    def progress(done: int, total: int) -> None:
        bar.progress(done / max(total, 1), text=f"Describing the images: {done:,} / {total:,}")

    try:
        model, info, path = cl.quick_train(progress)
    except (ValueError, OSError) as exc:  # TrainingError, DatasetError, a folder removed...
        bar.empty()
        st.error(f"Training failed: {exc}")
        return
    bar.empty()
    st.session_state["trained_model"] = model
    st.rerun()


# -- the images --------------------------------------------------------------------


def gather_files() -> list[tuple[str, str, bytes]]:
    """(file id, name, bytes) of every upload and the camera snapshot."""
    ups = st.file_uploader(
        "Images to classify",
        type=list(cl.UPLOAD_TYPES),
        accept_multiple_files=True,
        key="uploads",
        max_upload_size=IMAGE_MB,
        help="JPEG, PNG, BMP or WebP; one or many.",
    )
    files = [(u.file_id, u.name, u.getvalue()) for u in ups or []]
    if st.toggle(
        "Take a photo with the camera",
        key="use_camera",
        help="The browser asks for the camera only when this is on.",
    ):
        snap = st.camera_input("Camera", key="camera")
        if snap is not None:
            files.append((snap.file_id, "camera snapshot", snap.getvalue()))
    return files


def classify_files(model: SavedModel, files) -> list[tuple[cl.ImageResult, dict]]:
    """Each file once per model: a rerun (threshold, true class) reuses the result and the
    figures already drawn for it (a dict the cards fill)."""
    key = _model_key(model)
    cache = st.session_state.get(RESULTS, {})
    fresh = {}
    for file_id, name, data in files:
        fresh[(key, file_id)] = cache.get((key, file_id)) or (cl.classify_one(model, name, data), {})
    st.session_state[RESULTS] = fresh  # forget files no longer uploaded
    return [fresh[(key, file_id)] for file_id, _, _ in files]


def _figure(figs: dict, name, build):
    if name not in figs:
        figs[name] = build()
    return figs[name]


# -- showing one image -------------------------------------------------------------


def show_answer(r: cl.ImageResult, threshold: float) -> None:
    answer = r.answer(threshold)
    if r.confidence is None:
        st.success(f"**{answer}** (highest score; this model gives no probabilities)")
    elif answer == cl.NOT_SURE:
        st.warning(
            f"**not sure**: most likely {r.predicted} with probability {r.confidence:.1%}, "
            f"below the threshold {threshold:.0%}"
        )
    else:
        st.success(f"**{answer}** with probability {r.confidence:.1%}")


def show_card(
    model: SavedModel, r: cl.ImageResult, figs: dict, i: int, threshold: float, open_why: bool
) -> None:
    with st.container(border=True):
        left, right = st.columns([1, 2])
        left.image(r.thumbnail, caption=r.name)
        with right:
            show_answer(r, threshold)
            if r.probabilities is not None:
                fig = _figure(
                    figs,
                    ("proba", threshold),
                    lambda: probability_figure(model.classes, r.probabilities, threshold),
                )
                st.plotly_chart(fig, key=f"proba_{i}")
            st.caption(f"Decoded, described and scored in {1000 * r.seconds:.0f} ms.")
        with st.expander("Why this answer?", expanded=open_why):
            show_why(model, r, figs, i)


def show_why(model: SavedModel, r: cl.ImageResult, figs: dict, i: int) -> None:
    st.markdown(
        f"**What the model sees**: the image's HSV colour histogram "
        f"({'x'.join(map(str, model.bins))} bins = {len(r.hist)} numbers), nothing else: "
        "no shapes, no ears, no whiskers."
    )
    st.plotly_chart(_figure(figs, "hs", lambda: hue_saturation_figure(r.hist, model.bins)), key=f"hs_{i}")
    st.plotly_chart(_figure(figs, "top", lambda: top_bins_figure(r.hist, model.bins)), key=f"top_{i}")
    st.markdown("**The scores**: one per class, $s_j = W_j \\cdot x + b_j$ over those numbers.")
    st.info(cl.probability_note(model))
    true_class = st.selectbox(
        "Which class is really in the picture?",
        model.classes,
        index=model.classes.index(r.predicted),
        key=f"true_{i}",
    )
    show_table(model, r, true_class)
    show_hand_off(model, r, i, true_class)


def show_table(model: SavedModel, r: cl.ImageResult, true_class: str) -> None:
    table = cl.explain_table(model, r, true_class)
    numbers = [c for c in table.columns if c not in ("class", "true class")]
    styled = table.style.format({c: "{:.4f}" for c in numbers} | {"exp(score)": "{:.4g}"}).apply(
        lambda row: [
            "font-weight: bold; background-color: rgba(255, 200, 0, 0.25)" if row["true class"] else ""
            for _ in row
        ],
        axis=1,
    )
    st.dataframe(styled, hide_index=True)
    loss = cl.loss_for(r, model, true_class)
    st.markdown(
        f"Cross-entropy loss if the image is a **{true_class}**: "
        f"$-\\ln p_{{\\text{{{true_class}}}}}$ = **{loss:.4f}** (softmax of the scores)."
    )


def show_hand_off(model: SavedModel, r: cl.ImageResult, i: int, true_class: str) -> None:
    state, messages = cl.explain_state(model, r, true_class)
    for m in messages:
        st.caption(f"On the Explain page: {m}")
    if st.button("Open these scores on the Explain page", key=f"explain_{i}", icon=":material/calculate:"):
        st.switch_page("pages/explain.py", query_params=encode_state(state))


# -- many images -------------------------------------------------------------------


def show_table_of_all(model: SavedModel, results, threshold: float) -> None:
    df = cl.results_table(results, model.classes, threshold)
    st.subheader(f"{len(results)} images, most confident first")
    st.dataframe(
        df,
        hide_index=True,
        column_config={
            "confidence": st.column_config.ProgressColumn(
                "confidence", min_value=0.0, max_value=1.0, format="%.3f"
            ),
        },
    )
    st.download_button(
        "Download the table (CSV)",
        cl.table_csv(df),
        file_name="classified.csv",
        mime="text/csv",
        key="csv",
        icon=":material/download:",
    )


def show_results(model: SavedModel, classified, threshold: float) -> None:
    results = [r for r, _ in classified]
    for r in results:
        if not r.ok:
            st.error(f"**{r.name}**: {r.error}")
    good = [(i, r, figs) for i, (r, figs) in enumerate(classified) if r.ok]
    if len(results) > 1:
        show_table_of_all(model, results, threshold)
    if len(good) > CARDS_MAX:
        names = {i: f"{r.name} ({r.answer(threshold)})" for i, r, _ in good}
        pick = st.selectbox("Show the details of", list(names), format_func=names.get, key="detail")
        good = [g for g in good if g[0] == pick]
    for i, r, figs in good:
        show_card(model, r, figs, i, threshold, open_why=len(good) == 1)


# -- the page ----------------------------------------------------------------------

st.title("Classify")
st.caption(
    "Upload photos (or take one) and see what the trained Softmax classifier answers, "
    "with each class's probability and why: the colour histogram it sees, its scores "
    "W.x + b and the same table as the Explain page."
)

model = choose_model()
if model is None:
    offer_training()
    st.stop()
describe_model(model)
threshold = st.slider(
    "Confidence threshold",
    0.0,
    1.0,
    0.6,
    0.01,
    key="threshold",
    help="Below this probability the page says 'not sure' instead of a class: a colour "
    "histogram knows nothing about images that are neither of its classes.",
)
files = gather_files()
if not files:
    st.info("Upload one or more images (JPEG, PNG, BMP, WebP) to classify them.")
    st.stop()
show_results(model, classify_files(model, files), threshold)
