"""The one training road: every page that trains goes through `train()`.

It checks the dataset again (a folder swapped for a link since it was chosen is refused),
takes the dataset's lock (core.learn.lock: one construct, entered before any Streamlit
call, so no rerun, stop or closed tab can leave it held), runs the work in the worker
process (core.learn.workers) with a progress bar that says what is happening, and keeps
the result: in the session for the Classify page, and on disk as a saved model.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, replace
from pathlib import Path

import streamlit as st

from core import paths
from core.data.dataset import DatasetError
from core.data.library import DatasetInfo, LibraryError, resolve_dataset
from core.learn import workers
from core.learn.config import TrainConfig, TrainingError
from core.learn.lock import Holder, LockTimeout, training_lock
from core.learn.saved import save_model
from core.learn.train import TrainRun, curves_folder, train_folder
from core.text import md

RUN = "train_run"  # session key: the KeptRun on show
MODEL = "trained_model"  # session key: the model the Classify page uses first
WAIT_SECONDS = 600  # for another session's training of the same dataset
_WHO = "_train_session_id"
STAGES = {
    "listing": "Listing the images",
    "features": "Colour histograms",
    "training": "Training the softmax and the Linear SVM",
    "curves": "Learning curves",
}


@dataclass(frozen=True, eq=False)
class KeptRun:
    """A run as this session keeps it: with where its model was saved and how long it waited."""

    run: TrainRun
    waited: float = 0.0
    saved_to: Path | None = None
    save_error: str = ""


def current() -> KeptRun | None:
    kept = st.session_state.get(RUN)
    return kept if isinstance(kept, KeptRun) else None


def train(info: DatasetInfo, config: TrainConfig) -> KeptRun | None:
    """Train on `info` with `config` and keep the run; on any problem say so on the page
    and return None (the previous results stay)."""
    try:
        folder = resolve_dataset(info.name)  # the name is checked again, now
    except LibraryError as exc:
        st.error(f"Cannot train on **{md(info.name)}**: {md(str(exc))}")
        return None
    feedback = _Feedback()
    try:
        with training_lock(folder, who=_session_id(), wait=feedback.waiting, timeout=WAIT_SECONDS) as held:
            feedback.started()
            run = workers.run(
                train_folder,
                str(folder),
                config,
                dataset_name=info.name,
                cache_dir=str(paths.cache_dir()),
                within=str(paths.data_dir()),
                progress=feedback.progress,
                with_curves=False,  # the report first: with_curves() makes them next
            )
    except LockTimeout as exc:
        st.error(f"Cannot train on **{md(info.name)}** now: {md(str(exc))}.")
        return None
    except (DatasetError, TrainingError, workers.WorkerError) as exc:
        st.error(f"Cannot train on **{md(info.name)}**: {md(str(exc))}")
        return None
    except OSError as exc:
        st.error(f"Cannot read **{md(info.name)}** ({md(exc.strerror or exc)}): was it removed or moved?")
        return None
    finally:
        feedback.clear()
    return keep(run, held.waited)


def with_curves(kept: KeptRun) -> KeptRun:
    """The run with its learning curves, made now in the worker if training left them for
    after the report (they are most of a warm run: 10 refits). No lock: they only read the
    features the training just cached. If they cannot be made, the page says why."""
    if kept.run.curves is not None:
        return kept
    bar = st.progress(0.0, text="Learning curves...")

    def progress(stage: str, done: int, total: int) -> None:
        bar.progress(min(1.0, done / max(total, 1)), text=f"Learning curves: epoch {done} of {total}")

    try:
        curves = workers.run(
            curves_folder,
            kept.run.path,
            kept.run,
            cache_dir=str(paths.cache_dir()),
            within=str(paths.data_dir()),
            progress=progress,
        )
    except (DatasetError, TrainingError, workers.WorkerError, OSError) as exc:
        st.warning(f"No learning curves for this run: {md(exc)}")
        return kept
    finally:
        bar.empty()
    kept = replace(kept, run=replace(kept.run, curves=curves))
    st.session_state[RUN] = kept
    return kept


def keep(run: TrainRun, waited: float = 0.0) -> KeptRun:
    """The session's model for the Classify page, and a saved model on disk (the same
    settings overwrite their file)."""
    model = run.post.model
    st.session_state[MODEL] = model
    try:
        kept = KeptRun(run, waited, save_model(model))
    except OSError as exc:
        kept = KeptRun(run, waited, None, str(exc.strerror or exc))
    st.session_state[RUN] = kept
    return kept


def _session_id() -> str:
    """An opaque id of this session (never shown: other students see 'another session')."""
    return st.session_state.setdefault(_WHO, uuid.uuid4().hex[:12])


class _Feedback:
    """The waiting note and the progress bar of one training, in one placeholder."""

    def __init__(self):
        self.box = st.empty()
        self.note = None
        self.bar = None
        self.t0 = time.perf_counter()
        self.stage_t0: dict[str, tuple[float, int]] = {}

    def waiting(self, holder: Holder | None, waited: float) -> None:
        """Called while another session holds the lock; a rerun (the Cancel button, any
        widget) ends the wait, and nothing is held while waiting."""
        who = "Another session"
        if holder is not None and not holder.here:
            who = f"A session of another app process (pid {holder.pid})"
        since = f" for {holder.held_for():.0f} s" if holder is not None else ""
        if self.note is None:  # the first call draws the note and the Cancel button
            with self.box.container():
                self.note = st.empty()
                st.button("Cancel", key="cancel_wait", help="Stop waiting; nothing is trained.")
        self.note.info(
            f"{who} has been training this dataset{since}: waiting ({waited:.0f} s), "
            "then its cached features are reused."
        )

    def started(self) -> None:
        self.box.empty()
        self.bar = self.box.progress(0.0, text="Listing the images...")

    def progress(self, stage: str, done: int, total: int) -> None:
        if self.bar is None:
            return
        now = time.perf_counter()
        first = self.stage_t0.setdefault(stage, (now, done))
        text = STAGES.get(stage, stage)
        if stage == "features":
            rate = (done - first[1]) / max(now - first[0], 1e-9)
            text = f"{text}: {done:,} / {total:,} images" + (
                f" ({rate:,.0f} images/s)" if done > first[1] else ""
            )
        elif stage == "curves":
            text = f"{text}: epoch {done} of {total}"
        else:
            text += "..."
        self.bar.progress(min(1.0, done / max(total, 1)), text=text)

    def clear(self) -> None:
        self.box.empty()
