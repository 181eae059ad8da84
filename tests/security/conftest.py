"""The security suite reuses the real-server fixtures of tests/e2e and the AppTest helper."""
from __future__ import annotations


from tests.e2e.conftest import app_server, page, wait_idle  # noqa: F401 - fixtures




def classify_page(tmp_path):
    """The Classify page (AppTest) holding a model trained on a small made-up set."""
    from core.model import train_dataset
    from tests.app.conftest import open_page
    from tests.helpers import make_kaggle_folder

    model = train_dataset(make_kaggle_folder(tmp_path / "train-set", per_class=8)).model
    at = open_page("pages/classify.py")
    at.session_state["trained_model"] = model
    return at.run()
