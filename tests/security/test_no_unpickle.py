"""Nothing in the app unpickles data a user supplied.

A pickle runs code when it is loaded. Users hand the app model files, dataset zips,
images and a shared data folder, so: (1) no source file may call a loader that can
unpickle, and (2) a malicious pickle offered in every place a file comes in is refused
without running. The payload here only creates a marker file, which must never appear.
"""

from __future__ import annotations

import ast
import io
import os
import pickle
from pathlib import Path

import numpy as np
import pytest

from harness.apptest import open_page
from harness.images import make_kaggle_folder
from tests.security.conftest import classify_page
from tests.support import ROOT, rendered

APP_SOURCES = [
    ROOT / "softmax.py",
    ROOT / "streamlit_app.py",
    *sorted((ROOT / "core").rglob("*.py")),
    *sorted((ROOT / "pages").rglob("*.py")),
    *sorted((ROOT / "ui").rglob("*.py")),
]
PICKLING_MODULES = {"pickle", "cPickle", "_pickle", "dill", "cloudpickle", "shelve", "marshal"}
UNSAFE_CALLS = {  # (module alias or object, attribute) that unpickle or may
    ("joblib", "load"),
    ("torch", "load"),
    ("pd", "read_pickle"),
    ("pandas", "read_pickle"),
    ("yaml", "load"),
    ("yaml", "unsafe_load"),
    ("jsonpickle", "decode"),
}


def _call_name(func: ast.expr) -> tuple[str, str] | None:
    if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name):
        return func.value.id, func.attr
    return None


def _problems(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    out = []
    for node in ast.walk(tree):
        where = f"{path.relative_to(ROOT)}:{getattr(node, 'lineno', '?')}"
        if isinstance(node, ast.Import):
            out += [
                f"{where} imports {a.name}" for a in node.names if a.name.split(".")[0] in PICKLING_MODULES
            ]
        elif isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] in PICKLING_MODULES:
            out.append(f"{where} imports from {node.module}")
        elif isinstance(node, ast.Call):
            name = _call_name(node.func)
            kw = {k.arg: k.value for k in node.keywords}
            if name in UNSAFE_CALLS:
                out.append(f"{where} calls {'.'.join(name)}")
            if name in {("np", "load"), ("numpy", "load")}:
                flag = kw.get("allow_pickle")
                if not (isinstance(flag, ast.Constant) and flag.value is False):
                    out.append(f"{where} calls np.load without allow_pickle=False")
            if isinstance(kw.get("allow_pickle"), ast.Constant) and kw["allow_pickle"].value is True:
                out.append(f"{where} passes allow_pickle=True")
            # st.cache_data(persist="disk") pickles results to disk and loads them back later
            if name and name[1] == "cache_data" and "persist" in kw:
                out.append(f"{where} persists st.cache_data to disk (pickle)")
    return out


def test_no_source_file_can_unpickle():
    assert len(APP_SOURCES) >= 15  # the scan really covers the app
    problems = [p for path in APP_SOURCES for p in _problems(path)]
    assert problems == []


def test_the_scanner_catches_what_it_looks_for(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text(
        "import pickle\nimport numpy as np\nimport joblib\n"
        "np.load('x')\nnp.load('x', allow_pickle=True)\njoblib.load('m')\n"
        "from dill import loads\n@st.cache_data(persist='disk')\ndef f(): pass\n"
    )
    found = _problems_at(bad)
    assert len(found) == 7, found


def _problems_at(path: Path) -> list[str]:
    """_problems for a file outside the repo (its path shown as given)."""
    global ROOT
    saved, ROOT = ROOT, path.parent
    try:
        return _problems(path)
    finally:
        ROOT = saved


# ---------------------------------------------------------------- behaviour


class Payload:
    """Unpickling this creates the marker file: proof that a pickle was loaded."""

    def __init__(self, marker: Path):
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


@pytest.fixture
def marker(tmp_path) -> Path:
    m = tmp_path / "PWNED"
    yield m
    assert not m.exists(), "a user-supplied pickle was loaded"


def evil_npz(marker: Path) -> bytes:
    """A model-file look-alike: the header and weights hold pickled objects."""
    buf = io.BytesIO()
    obj = np.empty(1, dtype=object)
    obj[0] = Payload(marker)
    np.savez(buf, header=obj, coef=obj, intercept=obj)
    return buf.getvalue()


def texts(elements) -> str:
    """What the elements say, as a reader sees it (user-supplied strings are escaped)."""
    return "\n".join(rendered(str(e.value)) for e in elements)


def test_a_pickled_model_file_uploaded_on_classify_is_refused(marker):
    at = open_page("pages/classify.py")
    at.file_uploader(key="model_file").upload("model.npz", evil_npz(marker), "application/octet-stream").run()
    assert not at.exception
    assert "model.npz' cannot be used" in texts(at.error)


def test_a_pickled_model_left_in_the_shared_models_folder_is_skipped(marker):
    models = Path(os.environ["SOFTMAX_DATA_DIR"]) / ".models"
    models.mkdir(parents=True)
    (models / "planted.npz").write_bytes(evil_npz(marker))
    (models / "raw.npz").write_bytes(pickle.dumps(Payload(marker)))
    at = open_page("pages/classify.py")
    assert not at.exception
    warned = texts(at.warning)
    assert "planted.npz' was skipped" in warned and "raw.npz' was skipped" in warned


def test_a_pickle_uploaded_as_an_image_or_a_dataset_zip_is_refused(marker, tmp_path):
    make_kaggle_folder(Path(os.environ["SOFTMAX_DATA_DIR"]) / "pets", per_class=4)
    blob = pickle.dumps(Payload(marker))
    at = open_page("pages/train.py")
    at.file_uploader(key="dataset_zip").upload("data.zip", blob, "application/zip").run()
    assert not at.exception and "data.zip was not imported" in texts(at.error)

    at = classify_page(tmp_path)
    at.file_uploader(key="uploads").upload("photo.jpg", blob, "image/jpeg").run()
    assert not at.exception and "**photo.jpg**" in texts(at.error)


def test_a_pickle_planted_in_the_feature_cache_is_discarded(marker):
    from core.dataset import load_dataset
    from core.features import extract_features
    from core.learn.feature_cache import FeatureCache

    pets = make_kaggle_folder(Path(os.environ["SOFTMAX_DATA_DIR"]) / "pets", per_class=4)
    cache = Path(os.environ["SOFTMAX_CACHE_DIR"])
    folder = FeatureCache(cache, (8, 8, 8), True).dir
    folder.mkdir(parents=True)
    obj = np.empty(1, dtype=object)
    obj[0] = Payload(marker)
    np.savez(folder / "chunk-00000000000000000001-evil.npz", X=obj, meta=obj)
    feats = extract_features(load_dataset(pets).paths, cache_dir=cache, workers=1)
    assert len(feats.X) == 8
    assert any("corrupt" in n for n in feats.cache_notes)
