"""Classify: upload images (or take a photo), see the probabilities and why.

Layout only: the model picker (ui.models), the kept images (ui.classify_state), one call
per image (core.learn.classify), the figures (core.charts.histogram).
"""

from __future__ import annotations

import streamlit as st

from core.charts.histogram import (
    brightness_figure,
    hue_saturation_figure,
    probability_figure,
    top_bins_figure,
)
from core.charts.insight import waterfall_figure
from core.data.demo import make_demo_dataset
from core.data.library import list_datasets, preferred_dataset
from core.learn import classify as cl
from core.learn import insight
from core.learn.config import TrainConfig
from core.text import md, number, percent
from ui import classify_state, training
from ui.charts import chart
from ui.explain_state import hand_off
from ui.insight import class_row
from ui.models import Choice, choose_model
from ui.router import ensure_router

ensure_router()
ss = st.session_state
IMAGE_MB = 50  # per image: far above any photo; the server's own limit is set for dataset zips
CARDS_MAX = 6  # more images than this: the table, plus the details of the one picked


def describe_model(choice: Choice) -> None:
    st.caption(md(cl.model_summary(choice.model)))
    if choice.synthetic:
        st.warning(
            "This model was trained on the app's **synthetic demo set** (coloured blobs, not photographs): "
            "its answers on real photos mean nothing. Train on Dogs vs Cats on the Train page for the post's experiment."
        )
    if tuple(choice.model.bins) != TrainConfig().bins:
        bins = "x".join(map(str, choice.model.bins))
        st.info(f"This model uses {bins} histogram bins: each image is described with the model's own bins.")


def offer_training() -> None:
    st.warning("There is no trained model yet: none in this session and none saved on disk.")
    plan = preferred_dataset(list_datasets()[0])
    if plan is None:
        st.write(
            "The data folder holds no dataset. One click makes the app's **synthetic demo set** (coloured "
            "blobs, not photographs) and trains the post's classifier on it, so you can try the page offline."
        )
    else:
        kind = " (**synthetic demo data, not photographs**)" if plan.synthetic else ""
        st.write(
            f"One click trains the post's classifier (8x8x8 HSV histogram, SGD with log loss) on "
            f"**{md(plan.name)}** ({plan.n_images:,} images, classes {md(', '.join(plan.classes))}){kind}."
        )
    if st.button("Train a model now", key="quick_train", type="primary"):
        if plan is None:
            make_demo_dataset()
            plan = preferred_dataset(list_datasets()[0])
        if plan is not None and training.train(plan, TrainConfig()):
            st.rerun()
    st.page_link(
        "pages/train.py",
        label="Or choose the dataset and settings on the Train page",
        icon=":material/model_training:",
    )


def gather() -> list[classify_state.KeptImage]:
    """Every image of this session: kept through page switches until removed."""
    uploader_was_there, camera_was_there = "uploads" in ss, "camera" in ss
    ups = st.file_uploader(
        "Images to classify",
        type=["jpg", "jpeg", "png", "bmp", "webp"],
        accept_multiple_files=True,
        key="uploads",
        max_upload_size=IMAGE_MB,
        help="JPEG, PNG, BMP or WebP; one or many.",
    )
    snapshot = None
    if st.toggle(
        "Take a photo with the camera", key="use_camera", help="The browser asks only when this is on."
    ):
        snapshot = st.camera_input("Camera", key="camera")
    images = classify_state.remember(list(ups or []), uploader_was_there, snapshot, camera_was_there)
    if images and not ups:
        left, right = st.columns([4, 1])
        left.caption(f"{len(images)} image(s) kept from earlier in this session.")
        if right.button("Clear them", key="clear_images"):
            classify_state.forget_all()
            st.rerun()
    return images


def show_answer(r: cl.ImageResult, model, threshold: float) -> None:
    answer = r.answer(threshold)
    if r.confidence is None:
        st.success(f"**{md(answer)}** (highest score; this model gives no probabilities)")
    elif answer == cl.NOT_SURE:
        st.warning(
            f"**not sure**: most likely {md(r.predicted)} with probability {percent(r.confidence)}, "
            f"below the threshold {percent(threshold, 0)}"
        )
    else:
        st.success(f"**{md(answer)}** with probability {percent(r.confidence)}")
    note = cl.softmax_note(model, r)
    if note:
        st.caption(md(note))


def figure(figs: dict, name, build):
    if name not in figs:
        figs[name] = build()
    return figs[name]


def show_card(
    choice: Choice, r: cl.ImageResult, figs: dict, i: int, threshold: float, open_why: bool
) -> None:
    model = choice.model
    with st.container(border=True):
        left, right = st.columns([1, 2])
        if r.thumbnail is not None:
            left.image(r.thumbnail, caption=r.name)
        else:
            left.caption(
                f"{md(r.name)}: too thin or too large to show a picture of (classified all the same)"
            )
        with right:
            show_answer(r, model, threshold)
            if r.probabilities is not None:
                build = lambda: probability_figure(model.classes, r.probabilities, threshold)  # noqa: E731
                chart(figure(figs, ("proba", threshold), build), f"proba_{i}")
            st.caption(f"Decoded, described and scored in {1000 * r.seconds:.0f} ms.")
        with st.expander("Why this answer?", expanded=open_why):
            show_why(choice, r, figs, i)


def show_why(choice: Choice, r: cl.ImageResult, figs: dict, i: int) -> None:
    model = choice.model
    st.markdown(
        f"**What the model sees**: the image's HSV colour histogram ({'x'.join(map(str, model.bins))} bins = "
        f"{len(r.hist)} numbers), nothing else: no shapes, no ears, no whiskers."
    )
    hue, value = st.columns([2, 1])  # side by side on a laptop, one under the other on a phone
    with hue:
        chart(figure(figs, "hs", lambda: hue_saturation_figure(r.hist, model.bins)), f"hs_{i}")
    with value:
        chart(figure(figs, "value", lambda: brightness_figure(r.hist, model.bins)), f"value_{i}")
    chart(figure(figs, "top", lambda: top_bins_figure(r.hist, model.bins)), f"top_{i}")
    st.markdown("**The scores**: one per class, $s_j = W_j \\cdot x + b_j$ over those numbers.")
    st.info(md(cl.probability_note(model)))
    true_class = st.selectbox(
        "Which class is really in the picture?",
        model.classes,
        index=model.classes.index(r.predicted),
        key=f"true_{i}",
    )
    table = cl.explain_table(model, r, true_class)
    numbers = [c for c in table.columns if c not in ("class", "true class")]
    st.dataframe(
        table,
        hide_index=True,
        column_config={
            **{c: st.column_config.NumberColumn(format="%.4f") for c in numbers},
            "exp(score)": st.column_config.NumberColumn(format="%.4g"),
            "true class": st.column_config.CheckboxColumn(width="small"),
        },
    )
    loss = cl.loss_for(r, model, true_class)
    st.markdown(
        f"Cross-entropy loss if the image is a **{md(true_class)}**: −ln p = **{number(loss)}** (softmax of the scores)."
    )
    show_terms(model, r, figs, i)
    if st.button("Open these scores on the Explain page", key=f"explain_{i}", icon=":material/calculate:"):
        hand_off(
            model.classes,
            [float(s) for s in r.scores],
            model.classes.index(true_class),
            source=f"image {r.name}, scored by the model {choice.label}",
            back_page="pages/classify.py",
            back_label=f"Back to {r.name} on the Classify page",
        )


def show_terms(model, r: cl.ImageResult, figs: dict, i: int) -> None:
    """Where a score comes from: s = sum_j W_j x_j + b, its largest terms first."""
    st.markdown(
        "**Where the score comes from**: each colour bin's feature x_j times its weight W_j, plus b. "
        "x_j is the bin's share of the pixels divided by the histogram's length (the post's L2 "
        "normalisation: the 512 values' squares sum to 1), so it is larger than the share itself."
    )
    row = class_row(model.classes, "The score of", f"terms_class_{i}", model.classes.index(r.predicted))
    terms = insight.score_terms(model, r.hist, row)
    chart(figure(figs, ("terms", row), lambda: waterfall_figure(terms, model.bins)), f"terms_{i}")
    st.caption(insight.terms_sentence(terms, model.classes))


def show_table_of_all(model, results, threshold: float) -> None:
    df = cl.results_table(results, model.classes, threshold)
    st.subheader(f"{len(df)} images, most confident first")
    st.dataframe(
        df,
        hide_index=True,
        column_config={
            "answer": st.column_config.TextColumn(width=70),
            **{f"p({c})": st.column_config.NumberColumn(format="%.3f", width=60) for c in model.classes},
            "confidence": st.column_config.ProgressColumn(
                "confidence", min_value=0.0, max_value=1.0, format="%.3f", width=110
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


def show_results(choice: Choice, classified, threshold: float) -> None:
    for r, _ in classified:
        if not r.ok:
            st.error(f"**{md(r.name)}**: {md(r.error)}")
    order = cl.most_confident_first([r for r, _ in classified])  # the table's order
    good = [(i, classified[i][0], classified[i][1]) for i in order]
    if len(good) > 1:
        show_table_of_all(choice.model, [r for _, r, _ in good], threshold)
    if len(good) > CARDS_MAX:
        names = {i: f"{r.name} ({r.answer(threshold)})" for i, r, _ in good}
        pick = st.selectbox("Show the details of", list(names), format_func=names.get, key="detail")
        good = [g for g in good if g[0] == pick]
    for i, r, figs in good:
        show_card(choice, r, figs, i, threshold, open_why=len(good) == 1)


# -- the page ----------------------------------------------------------------------

st.title("Classify")
st.caption(
    "Upload photos (or take one) and see what the trained Softmax classifier answers, with each class's "
    "probability and why: the colour histogram it sees, its scores W.x + b and the same table as the Explain page."
)
choice = choose_model()
if choice is None:
    offer_training()
    st.stop()
describe_model(choice)
ss.setdefault("threshold", 0.6)
threshold = st.slider(
    "Confidence threshold",
    0.0,
    1.0,
    step=0.01,
    key="threshold",
    help="Below this probability the page says 'not sure' instead of a class: a colour "
    "histogram knows nothing about images that are neither of its classes.",
)
images = gather()
if not images:
    st.info("Upload one or more images (JPEG, PNG, BMP, WebP) to classify them.")
    st.stop()
show_results(choice, classify_state.classified(choice.model, choice.key, images), threshold)
