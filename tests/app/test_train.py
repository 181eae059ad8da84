"""The Train page, driven as a user does: pick a dataset, train, read the results."""

from __future__ import annotations

import shutil
import threading
import time
from pathlib import Path

import pytest
from sklearn.linear_model import SGDClassifier
from sklearn.metrics import accuracy_score, classification_report
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import LabelEncoder

from core.dataset import load_dataset
from core.features import extract_features
from core.learn.lock import training_lock
from core.learn.model import SavedModel
from core.paths import data_dir, models_dir
from harness.apptest import open_page
from harness.images import make_kaggle_folder, write_image
from tests.support import rendered

PAGE = "pages/train.py"


def _dataset(name="pets", per_class=16, classes=("cat", "dog")) -> Path:
    return make_kaggle_folder(data_dir() / name, per_class=per_class, classes=classes)


def _choose(at, name: str):
    box = at.selectbox(key="dataset")
    matches = [i for i, label in enumerate(box.options) if str(label).startswith(name)]
    assert matches, f"{name} not offered in {box.options}"
    box.select_index(matches[0]).run()
    return at


def _train(name="pets", at=None):
    at = at or open_page(PAGE)
    _choose(at, name)
    at.button(key="train").click().run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _reports(at):
    """The two classification reports, as the page prints them (as sklearn does)."""
    return [t.value for t in at.table if "precision" in t.value.columns]


def _by_hand(root: Path, epochs=10, loss="log_loss", test_size=0.25, fast=True, bins=(8, 8, 8)):
    """The post's softmax.py, run by hand on the same features."""
    ds = load_dataset(root)
    feats = extract_features(ds.paths, bins=bins, fast=fast, cache_dir=False)
    label_of = dict(zip(ds.paths, ds.labels))
    le = LabelEncoder()
    y = le.fit_transform([label_of[p] for p in feats.paths])
    tr_X, te_X, tr_y, te_y = train_test_split(feats.X, y, test_size=test_size, random_state=42)
    clf = SGDClassifier(loss=loss, random_state=967, max_iter=epochs, tol=None).fit(tr_X, tr_y)
    pred = clf.predict(te_X)
    return classification_report(te_y, pred, target_names=le.classes_, output_dict=True), accuracy_score(
        te_y, pred
    )


def _assert_table_is_report(table, report):
    """Every number of sklearn's report, printed as sklearn prints it (2 decimals, blanks)."""
    for name, row in report.items():
        if name == "accuracy":
            assert table.loc["accuracy", "f1-score"] == f"{row:.2f}"
            assert table.loc["accuracy", "precision"] == table.loc["accuracy", "recall"] == ""
            continue
        for col in ("precision", "recall", "f1-score"):
            assert table.loc[name, col] == f"{row[col]:.2f}", (name, col)
        assert table.loc[name, "support"] == str(int(row["support"])), name


def _metric(at, label):
    return next(m.value for m in at.metric if m.label == label)


def test_report_equals_sklearns_on_the_same_split_and_hinge_is_beside_it():
    root = _dataset()
    at = _train()
    softmax, hinge = _reports(at)[:2]
    report, acc = _by_hand(root)
    _assert_table_is_report(softmax, report)
    assert _metric(at, "Softmax (log loss) accuracy") == f"{acc:.1%}"
    h_report, h_acc = _by_hand(root, loss="hinge")
    _assert_table_is_report(hinge, h_report)
    assert _metric(at, "Linear SVM (hinge) accuracy") == f"{h_acc:.1%}"
    assert _metric(at, "Images (train / test)") == "24 / 8"
    assert any(c.value.startswith("On the diagonal") for c in at.caption)  # reliability (binary)


def test_the_model_is_kept_for_classify_and_saved_to_disk():
    _dataset()
    at = _train()
    model = at.session_state["trained_model"]
    assert isinstance(model, SavedModel) and model.classes == ("cat", "dog")
    assert model.meta["dataset"] == "pets" and model.kind == "sgd-log"
    saved = list(models_dir().glob("*.npz"))
    assert len(saved) == 1 and SavedModel.load(saved[0]).meta["accuracy"] == model.meta["accuracy"]
    assert at.get("download_button")  # the model can be downloaded


def test_gaps_tables_show_five_images_with_their_probabilities_and_redraw():
    _dataset()
    at = _train()
    tables = [d.value for d in at.dataframe if "gap" in d.value.columns]
    assert len(tables) == 2  # training images (as the post), test images
    train = tables[0]
    assert len(train) == 5
    for _, row in train.iterrows():
        assert row["actual"] == row["file"].split(".")[0]  # the actual label, from the name
        assert row["P(cat)"] + row["P(dog)"] == pytest.approx(1, abs=1e-3)
        assert row["gap"] == pytest.approx(abs(row["P(cat)"] - row["P(dog)"]), abs=1e-3)
        assert row["image"].startswith("data:image/jpeg;base64,")
    at.button(key="redraw_train").click().run()
    again = next(d.value for d in at.dataframe if "gap" in d.value.columns)
    assert list(again["file"]) != list(train["file"])


def test_changing_a_parameter_marks_the_results_until_train_is_pressed():
    root = _dataset()
    at = _train()
    before = _reports(at)[0]
    at.slider(key="epochs").set_value(3).run()  # dragging a slider trains nothing
    assert not at.exception and _reports(at)[0].equals(before)
    assert any("previous parameters" in i.value for i in at.info)
    assert at.session_state["trained_model"].meta["config"]["epochs"] == 10
    at.button(key="train").click().run()
    report, _ = _by_hand(root, epochs=3)
    _assert_table_is_report(_reports(at)[0], report)
    assert at.session_state["trained_model"].meta["config"]["epochs"] == 3
    assert not any("previous parameters" in i.value for i in at.info)
    at.slider(key="test_size").set_value(0.5).run()
    at.button(key="train").click().run()
    assert _metric(at, "Images (train / test)") == "16 / 16"


def test_exact_features_and_other_bins_retrain_with_those_features():
    root = _dataset()
    at = _train()
    at.toggle(key="fast").set_value(False).run()
    at.button(key="train").click().run()
    _assert_table_is_report(_reports(at)[0], _by_hand(root, fast=False)[0])
    at.selectbox(key="bins").set_value((4, 4, 4)).run()
    at.button(key="train").click().run()
    _assert_table_is_report(_reports(at)[0], _by_hand(root, fast=False, bins=(4, 4, 4))[0])
    model = at.session_state["trained_model"]
    assert model.bins == (4, 4, 4) and model.fast is False and model.n_features == 64


def test_three_classes_train_without_a_reliability_plot():
    root = _dataset("zoo", per_class=12, classes=("bird", "cat", "dog"))
    at = _train("zoo")
    _assert_table_is_report(_reports(at)[0], _by_hand(root)[0])
    gaps = next(d.value for d in at.dataframe if "gap" in d.value.columns)
    assert {"P(bird)", "P(cat)", "P(dog)"} <= set(gaps.columns)
    assert at.session_state["trained_model"].classes == ("bird", "cat", "dog")
    assert not any(c.value.startswith("On the diagonal") for c in at.caption)


def test_synthetic_demo_set_carries_a_banner():
    from core.data.demo import DEMO_NAME, make_demo_dataset

    make_demo_dataset(per_class=12)
    at = _train(DEMO_NAME)
    assert any(w.value.startswith("Synthetic demo data") for w in at.warning)


def test_real_folder_has_no_synthetic_banner():
    _dataset()
    at = _train()
    assert not any("Synthetic" in w.value for w in at.warning)


def test_confusion_cell_choice_lists_those_images():
    _dataset(per_class=20)
    at = _train()
    at.selectbox(key="cm_actual").set_value("cat").run()
    at.selectbox(key="cm_predicted").set_value("cat").run()
    cm = at.session_state["train_run"].run.post.confusion
    assert any(c.value.startswith(f"{cm[0, 0]} test images are cat and predicted cat") for c in at.caption)


def test_beyond_the_post_compares_on_demand():
    _dataset()
    at = _train()
    assert not [d for d in at.dataframe if "model" in d.value.columns]
    at.button(key="beyond").click().run()
    table = next(d.value for d in at.dataframe if "model" in d.value.columns)
    assert len(table) == 5 and "Multinomial softmax" in set(table["model"])
    post = at.session_state["train_run"].run.post
    assert table.iloc[0]["accuracy"] == pytest.approx(100 * post.accuracy)  # shown in percent


# -- bad input -------------------------------------------------------------------


def _errors(at):
    return [rendered(e.value) for e in at.error]


def test_three_images_give_a_clear_message():
    root = data_dir() / "tiny"
    for name in ("cat.0.jpg", "cat.1.jpg", "dog.0.jpg"):
        write_image(root / name)
    at = _train("tiny")
    assert any("Too few images in class 'dog' (1)" in e for e in _errors(at))
    assert "trained_model" not in at.session_state


def test_a_class_with_no_test_images_is_explained():
    _dataset("four", per_class=2)
    at = _train("four")
    assert not _errors(at)
    assert any("No test images of" in i.value for i in at.info)


def test_unreadable_files_are_skipped_and_counted():
    root = _dataset()
    (root / "cat.100.jpg").write_bytes(b"this is not an image")
    (root / "dog.100.jpg").write_bytes(b"\xff\xd8\xff broken jpeg")
    at = _train()
    assert not _errors(at)
    assert any(e.label.startswith("2 files skipped") for e in at.expander)
    assert _metric(at, "Images (train / test)") == "24 / 8"


def test_only_unreadable_files_is_an_error_not_a_traceback():
    root = data_dir() / "junk"
    root.mkdir()
    for name in ("cat.0.jpg", "cat.1.jpg", "dog.0.jpg", "dog.1.jpg"):
        (root / name).write_bytes(b"junk")
    at = _train("junk")
    assert any("None of the 4 images could be read" in e for e in _errors(at))


def test_a_dataset_removed_while_open_keeps_the_results():
    root = _dataset()
    _dataset("other")
    at = _train()
    before = _reports(at)[0]
    shutil.rmtree(root)
    at.run()
    assert not at.exception
    assert _reports(at)[0].equals(before)  # nothing lost
    assert any("has been removed" in w.value for w in at.warning)
    assert at.session_state["trained_model"].meta["dataset"] == "pets"


def test_a_dataset_removed_between_choosing_and_training_says_so(monkeypatch):
    import ui.training

    root = _dataset()
    at = open_page(PAGE)
    _choose(at, "pets")
    real = ui.training.resolve_dataset

    def vanish(name):  # the folder disappears just as training starts
        shutil.rmtree(root, ignore_errors=True)
        return real(name)

    monkeypatch.setattr(ui.training, "resolve_dataset", vanish)
    at.button(key="train").click().run()
    assert not at.exception
    assert any("Cannot" in e and "pets" in e for e in _errors(at))


def test_a_second_session_training_the_same_dataset_waits_then_trains():
    root = _dataset()
    at = _choose(open_page(PAGE), "pets")
    held, release = threading.Event(), threading.Event()

    def other_session():  # training now, and done after 1 s
        with training_lock(root, who="other"):
            held.set()
            release.wait(1.0)

    other = threading.Thread(target=other_session)
    other.start()
    held.wait(5)
    t0 = time.perf_counter()
    at.button(key="train").click().run()
    other.join(5)
    assert time.perf_counter() - t0 >= 0.9 and not at.exception
    assert any("Waited" in c.value for c in at.caption)
    assert _reports(at) and "trained_model" in at.session_state
    with training_lock(root, who="check", timeout=0):  # released again
        pass


def test_no_usable_dataset_disables_training():
    (data_dir() / "notes").mkdir()  # a folder with no images: not a dataset
    at = open_page(PAGE)
    assert not at.exception
    assert at.button(key="train").disabled


def test_switching_dataset_shows_old_results_until_train_then_the_new_ones():
    _dataset()
    _dataset("birds", classes=("bird", "dog"))
    at = _train()
    _choose(at, "birds")
    assert any("These results are for **pets**" in i.value for i in at.info)
    at.button(key="train").click().run()
    assert not at.exception
    assert at.session_state["trained_model"].classes == ("bird", "dog")
    assert at.selectbox(key="cm_actual").value == "bird"  # the cell boxes follow the classes


def test_a_one_class_folder_is_not_offered_and_says_why():
    _dataset("cats-only", classes=("cat",))
    _dataset()
    at = open_page(PAGE)
    assert not any(str(o).startswith("cats-only") for o in at.selectbox(key="dataset").options)
    shown = [rendered(e.value) for e in [*at.caption, *at.warning, *at.info, *at.markdown]]
    assert any("cats-only" in s and "Only one class" in s for s in shown), shown
