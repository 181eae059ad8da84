"""Train: the post's Dogs vs Cats experiment, live, and a little beyond it.

Thin: widgets in, core.model does the maths, core.charts.train draws.
"""

from __future__ import annotations

import time
from dataclasses import asdict
from pathlib import Path

import pandas as pd
import streamlit as st

from core import model as M
from core import workers
from core.charts import train as charts
from core.dataset import DatasetError, load_dataset
from core.model import TrainConfig, TrainingError
from core.paths import cache_dir
from ui.data_sources import pick_dataset
from ui.router import ensure_router

ensure_router()

# 12x12x12 is the largest: 1,728 float32 features x 25,000 images is already 173 MB in memory
BIN_CHOICES = [(4, 4, 4), (8, 8, 8), (12, 12, 12), (8, 4, 4), (16, 4, 4)]
ALPHAS = [1e-6, 1e-5, 1e-4, 1e-3, 1e-2, 1e-1]
RUN = "train_run"  # session key of the results on show
WAIT_SECONDS = 600  # for another session's training of the same dataset

# -- cached work (small hashable keys in, never arrays) --------------------------------


def _progress_to(bar):
    state = {"t0": time.perf_counter(), "first": None, "shown": 0.0}

    def report(done: int, total: int) -> None:
        now = time.perf_counter()
        if state["first"] is None:
            state["first"], state["t0"] = done, now  # images already cached don't count
        if done < total and now - state["shown"] < 0.1:
            return
        state["shown"] = now
        rate = (done - state["first"]) / max(now - state["t0"], 1e-9)
        bar.progress(
            done / max(total, 1),
            text=(f"Extracting colour histograms: {done:,} / {total:,} images ({rate:,.0f} images/s)"),
        )

    return report


@st.cache_data(show_spinner=False, max_entries=16)
def cached_training(root: str, fingerprint: str, config_items: tuple, name: str) -> dict:
    config = TrainConfig(**dict(config_items))
    # The bar lives inside the cached function so a cache hit replays it (emptied), not an error.
    bar = st.progress(0.0, text="Listing images...")
    try:  # in a worker process: other sessions' reruns do not wait while this one trains
        return workers.run(
            M.train_folder,
            root,
            config,
            dataset_name=name,
            cache_dir=str(cache_dir()),
            progress=_progress_to(bar),
        )
    finally:  # also when training fails: its message replaces the bar
        bar.empty()


# -- parameters ------------------------------------------------------------------


def parameters() -> TrainConfig:
    d = TrainConfig()
    with st.expander("Parameters (the post's defaults)", expanded=False):
        c1, c2, c3, c4 = st.columns(4)
        bins = c1.selectbox(
            "Histogram bins (H x S x V)",
            BIN_CHOICES,
            key="bins",
            index=BIN_CHOICES.index(d.bins),
            format_func=lambda b: f"{b[0]} x {b[1]} x {b[2]} ({b[0] * b[1] * b[2]} features)",
        )
        fast = c1.toggle(
            "Fast features (reduced JPEG decode)",
            value=d.fast,
            key="fast",
            help="Off: the post's exact features (full-size decode).",
        )
        test_size = c2.slider("Test size", 0.1, 0.5, d.test_size, 0.05, key="test_size")
        split_seed = c2.number_input("Split seed", 0, 2**31 - 1, d.split_seed, key="split_seed")
        sgd_seed = c3.number_input("SGD seed", 0, 2**31 - 1, d.sgd_seed, key="sgd_seed")
        epochs = c3.slider("Epochs", 1, 50, d.epochs, key="epochs")
        alpha = c4.select_slider(
            "Regularisation alpha", ALPHAS, d.alpha, key="alpha", format_func=lambda a: f"{a:.0e}"
        )
        c4.caption("Loss: log loss (the softmax), with the hinge loss (Linear SVM) beside it.")
    return TrainConfig(
        bins=tuple(bins),
        test_size=float(test_size),
        split_seed=int(split_seed),
        sgd_seed=int(sgd_seed),
        epochs=int(epochs),
        alpha=float(alpha),
        fast=bool(fast),
    )


# -- training --------------------------------------------------------------------


def train(info, config: TrainConfig) -> dict | None:
    """Train and store the run; on any problem say so and keep the previous results."""
    lock = M.dataset_lock(info.path)
    waited = _wait_for(lock)
    if waited is None:
        st.error("Another session has been training this dataset for too long; try again later.")
        return None
    t0 = time.perf_counter()
    try:
        root = str(info.path)
        ds = load_dataset(root)  # also notices a dataset removed since the page was drawn
        fp = M.files_fingerprint(ds.paths)
        out = cached_training(root, fp, tuple(sorted(asdict(config).items())), info.name)
    except (DatasetError, TrainingError, workers.WorkerError) as exc:
        st.error(f"Cannot train on **{info.name}**: {exc}")
        return None
    except OSError as exc:
        st.error(f"Cannot read **{info.name}** ({exc.strerror or exc}): was it removed or moved?")
        return None
    finally:
        lock.release()
    run = {
        **out,
        "dataset": info.name,
        "path": root,
        "synthetic": bool(info.synthetic),
        "config": config,
        "fingerprint": fp,
        "waited": waited,
        "beyond": None,
        "seconds": time.perf_counter() - t0,
    }
    _keep(run)
    return run


def _wait_for(lock) -> float | None:
    """Seconds waited for another session's training of the same dataset (None: gave up)."""
    if lock.acquire(blocking=False):
        return 0.0
    t0 = time.perf_counter()
    note = st.empty()
    while not lock.acquire(timeout=0.5):
        waited = time.perf_counter() - t0
        if waited > WAIT_SECONDS:
            note.empty()
            return None
        note.info(
            f"Another session is training on this dataset: waiting ({waited:.0f} s), "
            "then its cached features are reused."
        )
    note.empty()
    return time.perf_counter() - t0


def _keep(run: dict) -> None:
    """Session for the Classify page, disk for later (same settings overwrite their file)."""
    model = run["post"].model
    st.session_state["trained_model"] = model
    st.session_state[RUN] = run
    try:
        run["saved_to"] = M.save_model(model)
    except OSError as exc:
        run["saved_to"] = None
        st.warning(f"The model is kept for this session but could not be saved to disk: {exc}")


# -- results ---------------------------------------------------------------------


def show(run: dict) -> None:
    post, hinge = run["post"], run["hinge"]
    if run["synthetic"]:
        st.warning(
            "Synthetic demo data: made-up coloured blobs generated by the app, not the "
            "post's Dogs vs Cats photos. These results say nothing about the real experiment."
        )
    if not Path(run["path"]).is_dir():
        st.warning(
            f"The dataset **{run['dataset']}** has been removed from the data folder. "
            "These results and the saved model are kept; its thumbnails are gone."
        )
    for note in post.notes:
        st.info(note)
    for note in run.get("cache_notes", ()):  # e.g. a full disk: training worked, the next run is slower
        st.warning(f"Feature cache: {note}. The results are complete; the next run will extract again.")
    if run.get("waited"):
        st.caption(f"Waited {run['waited']:.1f} s for another session training this dataset.")
    _skipped(post.skipped)
    _headline(run)
    _reports(post, hinge)
    st.plotly_chart(charts.learning_curves_figure(run["curves"]), key="curves")
    st.caption(
        "Each point is the same run stopped after that many epochs (same seeds), "
        "so the last point is the model reported above."
    )
    _confusion(post)
    _gaps(post)
    if len(post.classes) == 2:
        _reliability(post)
    _beyond(run)
    _download(run)


def _skipped(skipped) -> None:
    if not skipped:
        return
    with st.expander(f"{len(skipped):,} files skipped (not used for training)"):
        st.dataframe(pd.DataFrame(skipped[:500], columns=["file", "reason"]), hide_index=True)


def _headline(run: dict) -> None:
    post, hinge = run["post"], run["hinge"]
    st.subheader(f"Results on {run['dataset']}")
    c = st.columns(4)
    c[0].metric("Softmax (log loss) accuracy", f"{post.accuracy:.1%}")
    c[1].metric(
        "Linear SVM (hinge) accuracy",
        f"{hinge.accuracy:.1%}",
        delta=f"{(hinge.accuracy - post.accuracy) * 100:+.1f} points",
        delta_color="off",
    )
    c[2].metric("Images (train / test)", f"{post.n_train:,} / {post.n_test:,}")
    c[3].metric(
        "Time to results",
        f"{run['seconds']:.2f} s",
        help=(
            f"Of which features: {run['feature_seconds']:.2f} s. Each image's histogram is "
            "extracted once, then read back from the disk cache; the same settings again "
            "come straight from memory."
        ),
    )
    st.caption("The post, on all 25,000 Kaggle images: 65% (softmax) vs 64% (Linear SVM).")


def _report_frame(result) -> pd.DataFrame:
    return pd.DataFrame(M.report_rows(result.report)).set_index("")


def _reports(post, hinge) -> None:
    left, right = st.columns(2)
    for col, result, title in (
        (left, post, "Softmax: SGDClassifier(loss='log_loss')"),
        (right, hinge, "Linear SVM: SGDClassifier(loss='hinge')"),
    ):
        col.markdown(f"**{title}** — accuracy {result.accuracy:.1%}")
        # Numbers stay numbers, printed as sklearn prints them (a pandas Styler doing the
        # same cost ~10 ms a table on every rerun).
        col.dataframe(
            _report_frame(result),
            key=f"report_{result.config.loss}",
            column_config={
                **{
                    c: st.column_config.NumberColumn(format="%.2f")
                    for c in ("precision", "recall", "f1-score")
                },
                "support": st.column_config.NumberColumn(format="%d"),
            },
        )
        with col.expander("As the post prints it"):
            st.code(result.report_text, language=None)


def _confusion(post) -> None:
    left, right = st.columns([2, 3])
    with left:
        event = st.plotly_chart(
            charts.confusion_figure(post.confusion, post.classes),
            key="confusion",
            on_select="rerun",
            selection_mode="points",
        )
    _clicked_cell(event, post.classes)
    with right:
        st.markdown("**See the images in a cell** (click it, or choose it here)")
        a, p = st.columns(2)
        for key, default in (("cm_actual", post.classes[0]), ("cm_predicted", post.classes[1])):
            if st.session_state.get(key) not in post.classes:  # first run, or another dataset
                st.session_state[key] = default  # off the diagonal: the first mistakes
        actual = a.selectbox("Actual", post.classes, key="cm_actual")
        predicted = p.selectbox("Predicted", post.classes, key="cm_predicted")
        rows = M.cell_rows(post, actual, predicted)
        st.caption(
            f"{len(rows)} test images are {actual} and predicted {predicted}"
            + (" (showing 24)." if len(rows) > 24 else ".")
        )
        _thumbnails(post, rows[:24])


def _clicked_cell(event, classes) -> None:
    """A click on a cell chooses it in the two select boxes (only when the click is new,
    so choosing in the boxes afterwards still works)."""
    points = [p for p in (event.selection.points if event else []) if p.get("y") in classes]
    cell = (points[0]["y"], points[0]["x"]) if points else None
    if cell and cell != st.session_state.get("cm_clicked") and cell[1] in classes:
        st.session_state["cm_actual"], st.session_state["cm_predicted"] = cell
    st.session_state["cm_clicked"] = cell


def _thumbnails(post, rows) -> None:
    if not post.paths:
        return
    images, captions = [], []
    for r in rows:
        img = M.thumbnail(post.paths[r])
        if img is not None:
            images.append(img)
            captions.append(Path(post.paths[r]).name)
    if images:
        st.image(images, caption=captions, width=96)
    elif len(rows):
        st.caption("The images cannot be read any more (removed or changed on disk).")


def _gaps(post) -> None:
    st.subheader("Probability gaps")
    st.caption(
        "As in the post: random images with each class's probability and the actual "
        "label. The gap is the largest probability minus the next one."
    )
    for part in ("train", "test"):
        key = f"gap_seed_{part}"
        st.session_state.setdefault(key, 0)
        title = "training images (as the post)" if part == "train" else "test images"
        head, button = st.columns([4, 1])
        head.markdown(f"**5 random {title}**")
        if button.button("Draw again", key=f"redraw_{part}"):
            st.session_state[key] += 1
        samples = M.sample_gaps(post, part, n=5, seed=st.session_state[key])
        st.dataframe(
            _gap_frame(samples, post.classes),
            key=f"gaps_{part}",
            hide_index=True,
            column_config={"image": st.column_config.ImageColumn("image", width="small")},
        )
    gtr, gte = M.probability_gaps(post.proba_train), M.probability_gaps(post.proba_test)
    st.plotly_chart(charts.gap_distribution_figure(gtr, gte), key="gap_hist")
    st.caption(
        f"Mean gap: {gtr.mean():.2f} on training images, {gte.mean():.2f} on test images. "
        "A reader asked whether sampling from the training set flatters the model: the gaps "
        "show how much more sure it is of images it was trained on."
    )


def _gap_frame(samples, classes) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {
                "image": M.thumbnail_data_uri(s["path"], 64) if s["path"] else None,
                "file": Path(s["path"]).name if s["path"] else "",
                "actual": s["actual"],
                "predicted": s["predicted"],
                **{f"P({c})": round(s["probabilities"][c], 4) for c in classes},
                "gap": round(s["gap"], 4),
            }
            for s in samples
        ]
    )


def _reliability(post) -> None:
    mean_p, observed, counts = M.reliability(post)
    st.plotly_chart(charts.reliability_figure(mean_p, observed, counts, post.classes[1]), key="reliability")
    st.caption(
        "On the diagonal, a predicted 70% is right 70% of the time. Few test images make each point noisy."
    )


def _beyond(run: dict) -> None:
    st.subheader("Beyond the post")
    st.caption(
        "Same features, same split. SGDClassifier's predict_proba with more than two classes "
        "normalises one-vs-rest sigmoids; LogisticRegression is a true softmax. Square roots "
        "(Hellinger) and a chi-squared feature map suit histograms better than raw counts. "
        "On the full Kaggle set we measured about 63% (post's recipe), 66% (Hellinger) and 69% (chi2 map)."
    )
    if st.button("Compare", key="beyond"):
        try:
            run["beyond"] = workers.run(
                M.compare_folder, run["path"], run["post"], cache_dir=str(cache_dir())
            )
        except (TrainingError, workers.WorkerError) as exc:
            st.error(f"Cannot compare: {exc}")
        except (DatasetError, OSError) as exc:
            st.error(f"Cannot compare: the dataset cannot be read any more ({exc}).")
    if run["beyond"]:
        variants = run["beyond"]
        st.dataframe(
            pd.DataFrame(
                [
                    {"model": v.name, "what": v.what, "accuracy": v.accuracy, "seconds": round(v.seconds, 3)}
                    for v in variants
                ]
            ),
            key="beyond_table",
            hide_index=True,
            column_config={"accuracy": st.column_config.NumberColumn(format="percent")},
        )
        st.plotly_chart(
            charts.accuracy_comparison_figure(
                [v.name for v in variants], [v.accuracy for v in variants], variants[0].accuracy
            ),
            key="beyond_chart",
        )


def _download(run: dict) -> None:
    model = run["post"].model
    saved = run.get("saved_to")
    st.subheader("The model")
    st.caption(
        "Kept for the Classify page in this session"
        + (f", and saved as `{saved.name}` in the data folder's .models." if saved else ".")
    )
    st.download_button(
        "Download the model (.npz)",
        model.to_bytes(),
        key="download_model",
        file_name=f"{run['dataset']}-softmax.npz",
        mime="application/octet-stream",
    )


# -- the page --------------------------------------------------------------------

st.title("Train: Dogs vs Cats, as in the post")
st.caption(
    "8x8x8 HSV colour histograms, a 75/25 split, SGDClassifier with the log loss "
    "(a Softmax classifier): the post's softmax.py, run live on a folder of images."
)

info = pick_dataset()
if info is not None:
    workers.warm()  # start the training process while the user reads the page
config = parameters()
run = st.session_state.get(RUN)
clicked = st.button("Train", key="train", type="primary", disabled=info is None)
if info is None:
    st.info("Choose or add a dataset above to train on.")
same_data = run is not None and info is not None and run["dataset"] == info.name
if info is not None and (clicked or (same_data and run["config"] != config)):
    if clicked or st.session_state.get("train_failed") != (info.name, config):
        fresh = train(info, config)
        if fresh is None:
            st.session_state["train_failed"] = (info.name, config)
        else:
            run = fresh
            st.session_state.pop("train_failed", None)
if run is not None:
    if info is not None and run["dataset"] != info.name:
        st.info(f"These results are for **{run['dataset']}**: click Train for **{info.name}**.")
    elif run["config"] != config:
        st.info("These results are for the previous parameters (training failed with the new ones).")
    show(run)
