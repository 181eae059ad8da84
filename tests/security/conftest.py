"""The security suite: the real-server fixtures are in tests/conftest.py; this adds a trained Classify page."""

from __future__ import annotations


def classify_page(tmp_path):
    """The Classify page (AppTest) holding a model trained on a small made-up set."""
    from core.learn.train import train_folder
    from harness.apptest import open_page
    from harness.images import make_kaggle_folder

    model = train_folder(make_kaggle_folder(tmp_path / "train-set", per_class=8)).post.model
    at = open_page("pages/classify.py")
    at.session_state["trained_model"] = model
    return at.run()
