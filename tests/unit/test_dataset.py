"""load_dataset: the layouts users have, labels, order, what is skipped and why."""

from __future__ import annotations

import os

import pytest

from core.dataset import IMAGE_EXTENSIONS, DatasetError, is_image_name, load_dataset
from harness.images import make_class_folders, make_kaggle_folder, write_image


def test_kaggle_flat_label_is_the_name_before_the_first_dot(tmp_path):
    root = make_kaggle_folder(tmp_path / "train", per_class=3)
    write_image(root / "dog.extra.copy.jpg")
    ds = load_dataset(root)
    assert ds.layout == "kaggle-flat"
    assert ds.classes == ["cat", "dog"]
    assert dict(zip((os.path.basename(p) for p in ds.paths), ds.labels))["dog.extra.copy.jpg"] == "dog"
    assert ds.counts() == {"cat": 3, "dog": 4}
    assert ds.skipped == []


def test_paths_are_sorted_by_plain_string_order_and_labels_stay_parallel(tmp_path):
    root = make_kaggle_folder(tmp_path / "train", per_class=11)
    ds = load_dataset(root)
    assert ds.paths == sorted(ds.paths)
    # plain string order: cat.10 comes before cat.2 (not natural order)
    base = [os.path.basename(p) for p in ds.paths]
    assert base.index("cat.10.jpg") < base.index("cat.2.jpg")
    assert all(os.path.basename(p).startswith(label + ".") for p, label in zip(ds.paths, ds.labels))
    assert all(os.path.isabs(p) for p in ds.paths)


def test_kaggle_competition_folder_uses_train_not_test1(tmp_path):
    root = tmp_path / "dogs-vs-cats"
    make_kaggle_folder(root / "train", per_class=3)
    for i in range(1, 4):
        write_image(root / "test1" / f"{i}.jpg")  # unlabelled: Kaggle's test set
    ds = load_dataset(root)
    assert ds.layout == "kaggle-flat" and ds.root == str(root / "train")
    assert ds.classes == ["cat", "dog"] and len(ds.paths) == 6


def test_class_folders_any_number_of_classes_and_nested_subfolders(tmp_path):
    root = make_class_folders(tmp_path / "pets", per_class=2, classes=("cat", "dog", "bird"))
    write_image(root / "bird" / "more" / "deep.png")
    ds = load_dataset(root)
    assert ds.layout == "class-folders"
    assert ds.classes == ["bird", "cat", "dog"]
    assert ds.counts() == {"bird": 3, "cat": 2, "dog": 2}
    assert ds.labels[ds.paths.index(str(root / "bird" / "more" / "deep.png"))] == "bird"


@pytest.mark.parametrize("point_at", ["parent", "petimages"])
def test_petimages_layout_skips_and_reports_empty_files(tmp_path, point_at):
    pet = tmp_path / "kagglecatsanddogs" / "PetImages"
    for cls in ("Cat", "Dog"):
        for i in range(3):
            write_image(pet / cls / f"{i}.jpg", seed=i)
    (pet / "Cat" / "666.jpg").write_bytes(b"")  # Microsoft's download ships such files
    (pet / "Dog" / "Thumbs.db").write_bytes(b"\x00" * 10)
    (tmp_path / "kagglecatsanddogs" / "readme[1].txt").write_text("licence")
    root = pet.parent if point_at == "parent" else pet
    ds = load_dataset(root)
    assert ds.layout == "petimages"
    assert ds.root == str(pet)
    assert ds.classes == ["Cat", "Dog"]
    assert ds.counts() == {"Cat": 3, "Dog": 3}
    assert ds.skipped == [(str(pet / "Cat" / "666.jpg"), "empty file (0 bytes)")]


def test_extensions_any_case_and_hidden_or_non_images_ignored(tmp_path):
    root = tmp_path / "mixed"
    for i, ext in enumerate([".jpg", ".JPEG", ".Png", ".bmp", ".webp", ".TIF", ".tiff"]):
        cls = "cat" if i % 2 else "dog"
        (root / cls).mkdir(parents=True, exist_ok=True)
        (root / cls / f"img{i}{ext}").write_bytes(b"x")  # listing never decodes
    (root / "cat" / ".hidden.jpg").write_bytes(b"x")
    (root / "cat" / "._resource_fork.jpg").write_bytes(b"x")
    (root / "cat" / "notes.txt").write_text("hi")
    (root / "dog" / "photo.gif").write_bytes(b"x")
    (root / ".git").mkdir()
    (root / ".git" / "a.jpg").write_bytes(b"x")
    (root / "__MACOSX" / "cat").mkdir(parents=True)
    (root / "__MACOSX" / "cat" / "a.jpg").write_bytes(b"x")
    ds = load_dataset(root)
    assert ds.classes == ["cat", "dog"]
    assert len(ds.paths) == 7
    assert not any("hidden" in p or "resource" in p or "MACOSX" in p for p in ds.paths)


def test_is_image_name():
    assert is_image_name("a.JPG") and is_image_name("b.tiff") and is_image_name("c.webp")
    assert not is_image_name(".a.jpg") and not is_image_name("a.txt") and not is_image_name("jpg")
    assert ".jpeg" in IMAGE_EXTENSIONS


def test_flat_files_without_a_label_are_skipped_with_a_reason(tmp_path):
    root = make_kaggle_folder(tmp_path / "train", per_class=2)
    write_image(root / "1.jpg")
    (root / "cat.99.jpg").write_bytes(b"")
    ds = load_dataset(root)
    reasons = dict(ds.skipped)
    assert "expected e.g. cat.0.jpg" in reasons[str(root / "1.jpg")]
    assert reasons[str(root / "cat.99.jpg")] == "empty file (0 bytes)"
    assert len(ds.paths) == 4


def test_loose_unlabelled_files_beside_class_folders_use_the_folders(tmp_path):
    root = make_class_folders(tmp_path / "pets", per_class=2)
    write_image(root / "cover.jpg")
    ds = load_dataset(root)
    assert ds.layout == "class-folders"
    assert ds.counts() == {"cat": 2, "dog": 2}
    assert ds.skipped == [(str(root / "cover.jpg"), "not inside a class folder")]


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda p: p / "missing", "Folder not found"),
        (lambda p: write_image(p / "one.jpg"), "Not a folder"),
        (lambda p: (p / "empty").mkdir() or p / "empty", "No images found"),
        (lambda p: make_kaggle_folder(p / "cats", per_class=3, classes=("cat",)), "Only one class"),
        (lambda p: make_class_folders(p / "c", per_class=2, classes=("cat",)), "at least two"),
        (lambda p: _text_only(p / "t"), "No images found"),
    ],
)
def test_unusable_folders_raise_a_clear_error(tmp_path, make, message):
    with pytest.raises(DatasetError, match=message):
        load_dataset(make(tmp_path))


def _text_only(path):
    path.mkdir()
    (path / "readme.txt").write_text("no images here")
    return path


def test_dataset_error_is_a_value_error_and_names_the_folder(tmp_path):
    with pytest.raises(ValueError) as info:
        load_dataset(tmp_path / "nowhere")
    assert str(tmp_path / "nowhere") in str(info.value)


def test_listing_does_not_decode(tmp_path):
    root = tmp_path / "fake"
    for c in ("cat", "dog"):
        (root / c).mkdir(parents=True)
        (root / c / "0.jpg").write_text("not really a jpeg")
    ds = load_dataset(root)  # corrupt content is found later, by extract_features
    assert len(ds.paths) == 2 and ds.skipped == []
