"""core.library: what the data dir holds, and names that must not reach outside it."""

from __future__ import annotations

import io
import os
import time
from pathlib import Path
from types import SimpleNamespace

import pytest

from core.data import library
from core.data.archive import ArchiveError
from core.data.library import (
    LibraryError,
    describe_dataset,
    import_zip,
    list_datasets,
    preferred_dataset,
    resolve_dataset,
    sanitize_name,
    unique_name,
)
from core.dataset import DatasetError
from harness.images import encode, make_class_folders, make_image, make_kaggle_folder, make_zip, write_image


@pytest.fixture
def data(isolated_dirs) -> Path:
    return Path(os.environ["SOFTMAX_DATA_DIR"])


def test_lists_every_layout_with_counts(data):
    make_kaggle_folder(data / "flat", per_class=5)
    make_class_folders(data / "three", per_class=4, classes=("cat", "dog", "bird"))
    for cls in ("Cat", "Dog"):
        for i in range(3):
            write_image(data / "pets" / "PetImages" / cls / f"{i}.jpg", seed=i)
    infos, problems = list_datasets()
    assert problems == []
    by_name = {i.name: i for i in infos}
    assert [i.name for i in infos] == ["flat", "pets", "three"]
    assert (by_name["flat"].n_images, by_name["flat"].layout) == (10, "kaggle-flat")
    assert by_name["three"].classes == ["bird", "cat", "dog"]
    assert by_name["pets"].layout == "petimages" and by_name["pets"].classes == ["Cat", "Dog"]
    assert by_name["pets"].path == data / "pets"
    assert not any(i.synthetic for i in infos)
    assert by_name["three"].label == "three — 12 images, 3 classes"


def test_hidden_folders_files_and_unusable_folders(data):
    make_class_folders(data / ".models", per_class=2)
    (data / ".downloads").mkdir()
    (data / "README.txt").write_text("not a dataset")
    make_class_folders(data / "onlycats", per_class=3, classes=("cat",))
    (data / "empty").mkdir()
    infos, problems = list_datasets()
    assert infos == []
    assert len(problems) == 2
    assert problems[0].startswith("empty: No images found")
    assert problems[1].startswith("onlycats: Only one class")


def test_listing_follows_changes_in_the_folder(data):
    make_class_folders(data / "ds", per_class=3)
    assert list_datasets()[0][0].n_images == 6
    time.sleep(0.01)
    write_image(data / "ds" / "cat" / "new.jpg")
    assert list_datasets()[0][0].n_images == 7
    import shutil

    shutil.rmtree(data / "ds")
    assert list_datasets() == ([], [])


def test_listing_is_cached_until_a_folder_changes(data, monkeypatch):
    make_class_folders(data / "ds", per_class=3)
    list_datasets()
    calls = []
    monkeypatch.setattr(library, "load_dataset", lambda p: calls.append(p))
    infos, _ = list_datasets()
    assert calls == [] and infos[0].n_images == 6


def test_missing_data_dir_lists_nothing(tmp_path):
    assert list_datasets(tmp_path / "nowhere") == ([], [])


def test_symlink_out_of_the_data_dir_is_not_listed_or_resolved(data, tmp_path):
    outside = make_class_folders(tmp_path / "secret", per_class=2)
    (data / "sneaky").symlink_to(outside, target_is_directory=True)
    make_class_folders(data / "real", per_class=2)
    (data / "inner-link").symlink_to(data / "real", target_is_directory=True)
    names = [i.name for i in list_datasets()[0]]
    assert names == ["inner-link", "real"]
    with pytest.raises(LibraryError, match="outside the data dir"):
        resolve_dataset("sneaky")


@pytest.mark.parametrize(
    "name, words",
    [
        ("..", "not by a path"),
        ("../etc", "not by a path"),
        ("/etc", "not by a path"),
        ("a/b", "not by a path"),
        ("a\\b", "not by a path"),
        ("C:evil", "not by a path"),
        (".models", "hidden"),
        ("bad\x00name", "NUL"),
        ("x" * 300, "too long"),
        ("", "no dataset name"),
        (None, "no dataset name"),
    ],
)
def test_resolve_refuses_names_that_are_paths(data, name, words):
    with pytest.raises(LibraryError, match=words):
        resolve_dataset(name)


def test_resolve_and_describe(data):
    make_class_folders(data / "ds", per_class=2)
    assert resolve_dataset("ds") == data / "ds"
    assert describe_dataset("ds").n_images == 4
    with pytest.raises(LibraryError, match="No dataset named 'gone'.*removed"):
        resolve_dataset("gone")
    make_class_folders(data / "one", per_class=2, classes=("cat",))
    with pytest.raises(DatasetError, match="one: Only one class"):
        describe_dataset("one")


def test_explicit_data_dir_argument(tmp_path):
    make_class_folders(tmp_path / "elsewhere" / "ds", per_class=2)
    assert [i.name for i in list_datasets(tmp_path / "elsewhere")[0]] == ["ds"]
    assert resolve_dataset("ds", tmp_path / "elsewhere") == tmp_path / "elsewhere" / "ds"


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("My Photos (2).zip", "my-photos-2"),
        ("../../etc/passwd.ZIP", "passwd"),
        ("C:\\Users\\me\\cats.zip", "cats"),
        (".hidden.zip", "hidden"),
        ("...zip", "dataset"),
        ("日本.zip", "dataset"),
        ("a" * 200 + ".zip", "a" * 64),
    ],
)
def test_sanitize_name(raw, expected):
    assert sanitize_name(raw) == expected


def test_unique_name_never_reuses_a_folder(data):
    (data / "cats").mkdir()
    (data / "cats-2").mkdir()
    assert unique_name("cats.zip") == "cats-3"
    assert unique_name("dogs.zip") == "dogs"


def _zip(entries) -> io.BytesIO:
    return io.BytesIO(make_zip(entries))


def test_import_zip_lands_under_a_safe_unique_name(data):
    jpg = encode(make_image())
    src = _zip([(f"photos/{c}/{i}.jpg", jpg) for c in ("cat", "dog") for i in range(3)])
    first = import_zip(src, "../My Pets.zip")
    assert first.name == "my-pets" and first.problem == ""
    assert first.info.n_images == 6 and first.info.classes == ["cat", "dog"]
    src.seek(0)
    second = import_zip(src, "My Pets.zip")
    assert second.name == "my-pets-2"
    assert [i.name for i in list_datasets()[0]] == ["my-pets", "my-pets-2"]


def test_import_zip_one_class_is_kept_but_flagged(data):
    result = import_zip(_zip([(f"cat/{i}.jpg", encode(make_image())) for i in range(3)]), "c.zip")
    assert result.info is None and "Only one class" in result.problem
    assert result.report.extracted == 3
    assert list_datasets()[1] == [f"c: {result.problem}"]


def test_import_zip_hostile_leaves_nothing(data):
    with pytest.raises(ArchiveError):
        import_zip(_zip([("../evil.jpg", encode(make_image()))]), "evil.zip")
    assert sorted(os.listdir(data)) == []


def _ds(name, n, classes=("cat", "dog"), synthetic=False):
    return SimpleNamespace(name=name, n_images=n, classes=list(classes), synthetic=synthetic)


def test_the_preferred_dataset_is_real_cats_and_dogs_then_the_largest_real_one():
    kaggle, big, demo = (
        _ds("kaggle", 1000),
        _ds("flowers", 5000, ("rose", "tulip")),
        _ds("demo", 120, ("a", "b", "c"), True),
    )
    assert preferred_dataset([demo, big, kaggle]).name == "kaggle"
    assert preferred_dataset([demo, big]).name == "flowers"
    assert preferred_dataset([demo]).name == "demo"
    assert preferred_dataset([]) is None
