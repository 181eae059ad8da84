"""The Train page's views of what the model learned, where its loss comes from, and how
sure its numbers are: layout of core.learn.insight, core.learn.seeds and
core.learn.regularisation, figures from core.charts.insight.

What shows with the results is computed from the run the page keeps (the worker sent
back the few numbers these views need: the test images' scores and, per colour bin,
the images with most of it). The split seeds and the alpha sweep fit many models: they
run on a button, in the worker process, with a progress bar.
"""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
import streamlit as st

from core import paths
from core.charts import insight as charts
from core.images import file_thumbnail
from core.learn import insight, workers
from core.learn.config import POST_ACCURACY
from core.learn.regularisation import alpha_text, fit_sentence, sweep_folder
from core.learn.seeds import (
    SEED_CHOICES,
    SOFTMAX,
    SVM,
    claim_sentence,
    seeds_folder,
    spread_sentence,
    variants_sentence,
)
from core.text import md, number, percent
from ui.charts import chart
from ui.explain_state import hand_off

ss = st.session_state
THUMB = 110  # px: a gallery thumbnail


def _ident(run) -> tuple:
    """What a view's saved result belongs to: these files, these settings."""
    return (run.fingerprint, run.config)


# ---------------------------------------------------------------- the epoch replay


def replay(run) -> insight.EpochView:
    """The slider over epochs (the reported model by default) and that epoch's accuracy."""
    if run.curves is None:  # no curves to replay (ui.training.with_curves said why)
        return insight.reported_view(run.post)
    epochs = len(run.curves.epoch)
    if ss.get("replay_for") != _ident(run) or not 1 <= ss.get("replay_epoch", epochs) <= epochs:
        ss["replay_epoch"] = epochs  # a new run starts on its reported model
        ss["replay_for"] = _ident(run)
    if epochs > 1:
        st.slider(
            "Replay: the model after epoch",
            1,
            epochs,
            key="replay_epoch",
            help="The learning curves' own models: the same run stopped after k epochs. "
            "The confusion matrix and the weights below follow.",
        )
    view = insight.at_epoch(run.post, run.curves, ss.get("replay_epoch", epochs))
    final = run.post.accuracy
    c = st.columns(3)
    c[0].metric(
        f"Test accuracy after epoch {view.epoch}",
        percent(view.test_acc),
        delta=None if view.is_last else f"{100 * (view.test_acc - final):+.1f} points vs epoch {epochs}",
        delta_color="off",
    )
    c[1].metric(f"Training accuracy after epoch {view.epoch}", percent(view.train_acc))
    c[2].metric(f"Test log loss after epoch {view.epoch}", number(view.test_loss))
    return view


# ---------------------------------------------------------------- weights as colours


def class_row(classes, label: str, key: str, index: int = 0, help: str | None = None) -> int:
    """Which row of W to show: a choice of class with more than two classes; a binary
    model has its one row (the score z of class 1)."""
    if len(insight.weight_rows(classes)) == 1:
        return 0
    return st.selectbox(
        label, range(len(classes)), index=index, format_func=lambda r: classes[r], key=key, help=help
    )


def weights(run, view: insight.EpochView) -> None:
    post, bins = run.post, run.config.bins
    row = class_row(
        post.classes,
        "Whose weights",
        "weights_class",
        help="With more than two classes the post's SGDClassifier has one row of W per class "
        "(each class against the rest).",
    )
    vector = insight.weight_vector(view.coef, view.intercept, post.classes, row)
    st.caption(md(weights_caption(vector, run.config.bins, view)))
    shown = [w.index for w in (*vector.positive, *vector.negative)]
    if not shown:
        st.info("Every weight is 0 after this epoch: no colour votes yet.")
        return
    _pick_bin(shown)
    suffix = "" if view.is_last else f", epoch {view.epoch} of {view.epochs}"
    chart(
        charts.weights_figure(vector, bins, ss["weights_bin"], suffix),
        "weights_chart",
        on_select="rerun",
        selection_mode="points",
    )
    st.selectbox(
        "Colour (click a bar, or choose it here)",
        shown,
        format_func=lambda j: charts.swatch(j, bins).label,
        key="weights_bin",
    )
    colour_gallery(run, ss["weights_bin"], row)


def weights_caption(vector: insight.WeightVector, bins, view: insight.EpochView) -> str:
    """Plain text (the page escapes it): what the bars mean, for this model."""
    d = int(bins[0] * bins[1] * bins[2])
    return (
        f"Each bar is one of the {d} colour bins, painted in its own hue, saturation and value, and "
        f"its length is the weight W_j the score gives that bin's value x_j (the share of the image's pixels "
        f"in that colour, scaled so the whole histogram has length 1, as the post normalises it). Positive "
        f"weights vote {vector.votes_for}, negative ones vote {vector.votes_against}; the bias b is "
        f"{number(vector.bias)} and |W| = {number(vector.norm, 2)}."
    )


def _pick_bin(shown: list[int]) -> None:
    """A click on a bar chooses its colour (only a new click: choosing in the box afterwards
    still works); the box starts on the largest weight and follows the bars shown."""
    if ss.get("weights_bin") not in shown:
        ss["weights_bin"] = shown[0]
    event = ss.get("weights_chart")
    points = event.selection.points if event else []
    clicked = next((p.get("customdata") for p in points if p.get("customdata") in shown), None)
    if clicked is not None and clicked != ss.get("weights_clicked"):
        ss["weights_bin"] = clicked
    ss["weights_clicked"] = clicked


def colour_gallery(run, index: int, row: int) -> None:
    post, sw = run.post, charts.swatch(index, run.config.bins)
    if run.colours is None:
        return
    found = insight.images_with_colour(post, run.colours, index, row)
    st.markdown(f"**The test images with the most {md(sw.label)}** (scores of the reported model)")
    if not found:
        st.caption("No test image has a single pixel of this colour.")
        return
    what = "z" if len(post.classes) == 2 else f"score of {post.classes[row]}"
    captions = [
        md(
            f"{percent(img.share, 0)} of pixels · {what}\u00a0{charts.signed(img.score)}\u00a0→\u00a0{img.predicted}"
        )
        for img in found
    ]
    gallery(post, [img.row for img in found], captions)


def gallery(post, rows: list[int], captions: list[str], width: int = THUMB) -> None:
    """Thumbnails of the run's images with their captions (Markdown, already escaped)."""
    shown = [
        # square: the rows line up whatever the photos' shapes
        (file_thumbnail(post.paths[r], THUMB, within=paths.data_dir(), square=True), c)
        for r, c in zip(rows, captions)
    ]
    shown = [(img, c) for img, c in shown if img is not None]
    if shown:
        st.image([img for img, _ in shown], caption=[c for _, c in shown], width=width)
    elif rows:
        st.caption("The images cannot be read any more (removed or changed on disk).")


# ---------------------------------------------------------------- where the loss comes from


def losses(run) -> None:
    post = run.post
    st.subheader("Where the loss comes from")
    found = insight.image_losses(post)
    c = st.columns(3)
    c[0].metric("Mean of −ln p(true class)", number(found.mean))
    c[1].metric("scikit-learn's log_loss", number(insight.test_log_loss(post)))
    c[2].metric("Mistakes", f"{int((~found.correct).sum()):,} of {len(found.loss):,}")
    st.caption(
        "The dataset's loss is the mean of one loss per test image: −ln of the probability the "
        "model gave the true class (the Explain page's loss, image by image). "
        + insight.loss_sentence(found)
        + f" For the reported model (after epoch {post.config.epochs}), whatever epoch the replay above shows."
    )
    chart(charts.loss_distribution_figure(found), "loss_hist")
    costly = insight.top_losses(post, found)
    st.markdown("**The costliest test images** (top losses: the most confident mistakes first)")
    nb = "\u00a0"  # no line break inside "p(cat) 0.01"
    captions = [
        md(
            f"{i + 1}. {c.actual} → {c.predicted}"
            if c.actual != c.predicted
            else f"{i + 1}. {c.actual}, right"
        )
        # p to 4 places: -ln of what is shown is the loss shown (0.05 would read as 3.00, not 2.91)
        + " · "  # outside md(), which folds the white space at its ends
        + md(f"p({c.actual}){nb}{number(math.exp(-c.loss), 4)} · loss{nb}{number(c.loss, 2)}")
        for i, c in enumerate(costly)
    ]
    gallery(post, [c.row for c in costly], captions)
    if costly and post.paths:
        explain_one(run, costly)
    if len(post.classes) > 2:
        confused(post, found)


def explain_one(run, costly: list[insight.CostlyImage]) -> None:
    post = run.post
    left, right = st.columns([3, 2], vertical_alignment="bottom")
    pick = left.selectbox(
        "Open an image's scores on the Explain page",
        range(len(costly)),
        format_func=lambda i: f"{i + 1}. {Path(costly[i].path).name} (loss {number(costly[i].loss, 2)})",
        key="loss_pick",
    )
    if right.button("Open on the Explain page", key="loss_explain", icon=":material/calculate:"):
        c = costly[pick]
        name = Path(c.path).name
        hand_off(
            post.classes,
            list(c.scores),
            post.classes.index(c.actual),
            source=f"test image {name} of {run.dataset}, scored by the softmax trained on the Train page "
            f"({run.config.summary()})",
            back_page="pages/train.py",
            back_label="Back to the costliest images on the Train page",
        )
    if len(post.classes) > 2:
        st.caption(
            "Explain shows the softmax of these scores; the post's SGDClassifier gives its own "
            "one-vs-rest probabilities (the p above), so the two differ with more than two classes."
        )


def confused(post, found: insight.Losses) -> None:
    pairs = insight.confused_pairs(post, found)
    if not pairs:
        return
    st.markdown("**The most confused pairs**")
    st.dataframe(
        pd.DataFrame(
            [
                {
                    "actual": p.actual,
                    "predicted": p.predicted,
                    "images": p.images,
                    "% of actual": 100 * p.of_actual,
                    "% of the loss": 100 * p.loss,
                }
                for p in pairs
            ]
        ),
        key="confused_pairs",
        hide_index=True,
        column_config={
            "% of actual": st.column_config.NumberColumn(format="%.1f%%"),
            "% of the loss": st.column_config.NumberColumn(format="%.1f%%"),
        },
    )


# ---------------------------------------------------------------- how sure: split seeds


def _kept_result(run, store: str, clicked: bool, fn, *args, what: str, failure: str):
    """On a click, fn in the worker for this run, kept in the session; the kept result for
    this run (None until the button is pressed for it)."""
    if clicked:
        try:
            ss[store] = (_ident(run), _in_worker(fn, *args, what=what))
        except (ValueError, OSError, workers.WorkerError) as exc:
            st.error(f"{failure}: {md(exc)}")
    known = ss.get(store)
    return known[1] if known and known[0] == _ident(run) else None


def _in_worker(fn, *args, what: str, **kwargs):
    """fn in the worker process with a progress bar: 'what: 12 of 50'."""
    bar = st.progress(0.0, text=f"{what}...")

    def progress(stage, done, total):
        bar.progress(min(1.0, done / max(total, 1)), text=f"{what}: {done} of {total}")

    try:
        return workers.run(
            fn,
            *args,
            cache_dir=str(paths.cache_dir()),
            within=str(paths.data_dir()),
            progress=progress,
            **kwargs,
        )
    finally:
        bar.empty()


def seeds(run) -> None:
    st.caption(
        f"One split tests on {run.post.n_test:,} images: another split gives another accuracy. "
        "Here every model is trained again on other splits (split seed "
        f"{run.config.split_seed} + k, the SGD seed unchanged), on the same cached features."
    )
    left, right = st.columns([1, 2], vertical_alignment="bottom")
    n = left.selectbox("Split seeds", SEED_CHOICES, key="seeds_n")
    clicked = right.button(f"Train on {n} splits", key="seeds_run")
    spread = _kept_result(
        run,
        "train_seeds",
        clicked,
        seeds_folder,
        run.path,
        run.post,
        n,
        what=f"5 models on {n} splits",
        failure="Cannot train on other splits",
    )
    if spread is None:
        return
    st.dataframe(
        pd.DataFrame(
            [
                {
                    "model": m.name,
                    "mean": 100 * m.mean,
                    "95% interval": f"{percent(m.low)} to {percent(m.high)}",
                    "sd (points)": 100 * m.sd,
                    "lowest": 100 * m.values.min(),
                    "highest": 100 * m.values.max(),
                }
                for m in spread.models
            ]
        ),
        key="seeds_table",
        hide_index=True,
        column_config={
            c: st.column_config.NumberColumn(format="%.1f%%") for c in ("mean", "lowest", "highest")
        }
        | {"sd (points)": st.column_config.NumberColumn(format="%.1f")},
    )
    chart(charts.seeds_figure(spread), "seeds_chart")
    chart(
        charts.difference_figure(
            spread.difference(SOFTMAX, SVM), POST_ACCURACY["softmax"] - POST_ACCURACY["svm"]
        ),
        "seeds_difference",
    )
    st.markdown(md(spread_sentence(spread)))
    st.markdown(md(variants_sentence(spread)))
    claim = claim_sentence(spread)
    if claim:
        post = f"{percent(POST_ACCURACY['softmax'], 0)} vs {percent(POST_ACCURACY['svm'], 0)}"
        st.info(f"**Is the post's {post} a difference or noise?** {md(claim)}")
    st.caption(
        f"{len(spread.seeds)} splits in {number(spread.seconds, 1)} s. The interval is Student's t over the "
        "splits; splits of one dataset share images, so read it as a guide, not a guarantee."
    )


# ---------------------------------------------------------------- regularisation


def regularisation(run) -> None:
    st.caption(
        "The post's next topic: SGDClassifier minimises the mean log loss + alpha·|W|²/2. "
        "The same split and seed with every alpha the page offers."
    )
    clicked = st.button("Sweep alpha", key="sweep_run")
    sweep = _kept_result(
        run,
        "train_sweep",
        clicked,
        sweep_folder,
        run.path,
        run.post,
        what="alpha",
        failure="Cannot sweep alpha",
    )
    if sweep is None:
        return
    left, right = st.columns(2)
    chart(charts.alpha_figure(sweep, "accuracy"), "alpha_accuracy", left)
    chart(charts.alpha_figure(sweep, "loss"), "alpha_loss", right)
    st.dataframe(
        pd.DataFrame(
            [
                {
                    "alpha": alpha_text(p.alpha) + (" (chosen)" if p.alpha == sweep.chosen else ""),
                    "train accuracy": 100 * p.train_acc,
                    "test accuracy": 100 * p.test_acc,
                    "test log loss": p.test_loss,
                    "|W|": p.w_norm,
                }
                for p in sweep.points
            ]
        ),
        key="sweep_table",
        hide_index=True,
        column_config={
            "train accuracy": st.column_config.NumberColumn(format="%.1f%%"),
            "test accuracy": st.column_config.NumberColumn(format="%.1f%%"),
            "test log loss": st.column_config.NumberColumn(format="%.4f"),
            "|W|": st.column_config.NumberColumn(format="%.2f"),
        },
    )
    st.markdown(md(fit_sentence(sweep)))
