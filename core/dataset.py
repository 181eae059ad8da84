"""Finding images and their labels in a folder, the way users actually have them.

Three layouts are recognised (see `load_dataset`):

- ``kaggle-flat``: Kaggle's Dogs vs Cats ``train/`` folder, ``cat.0.jpg``, ``dog.0.jpg``:
  the label is the file name before its first dot, as in the post. Pointed at the
  unzipped competition folder (``train/`` beside the unlabelled ``test1/``), train/ is used.
- ``petimages``: Microsoft's "Kaggle Cats and Dogs" download, ``PetImages/Cat/0.jpg``.
  It ships empty files (and a few corrupt ones, which only decoding can tell: those
  are reported by ``core.features.extract_features``).
- ``class-folders``: one folder per class, ``root/<class>/**/<anything>.jpg``.

Listing only stats files (no decoding), so the Train page can list datasets cheaply.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

IMAGE_EXTENSIONS = frozenset({".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff"})
LAYOUTS = ("kaggle-flat", "class-folders", "petimages")


class DatasetError(ValueError):
    """A folder that cannot be used as a dataset; the message is meant for the user."""


@dataclass(frozen=True)
class Dataset:
    root: str  # the folder the images were found under (PetImages itself for "petimages")
    layout: str  # one of LAYOUTS
    paths: list[str]  # sorted by plain string order, so runs reproduce on any machine
    labels: list[str]  # parallel to paths
    classes: list[str]  # sorted
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (path, reason)

    def __len__(self) -> int:
        return len(self.paths)

    def counts(self) -> dict[str, int]:
        """Images per class, in class order."""
        out = dict.fromkeys(self.classes, 0)
        for label in self.labels:
            out[label] += 1
        return out


def is_image_name(name: str) -> bool:
    """True for a visible file whose extension (any case) is an image we can read."""
    if not name or name.startswith("."):
        return False
    return os.path.splitext(name)[1].lower() in IMAGE_EXTENSIONS


def _is_hidden(name: str) -> bool:
    # __MACOSX holds the resource forks a Mac zip adds; they are not images.
    return name.startswith(".") or name == "__MACOSX"


def _image_entries(folder: str, recursive: bool):
    """Yield (path, size) of every image under folder; hidden folders are not entered."""
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return
    for entry in entries:
        if _is_hidden(entry.name):
            continue
        try:
            if entry.is_dir():
                if recursive:
                    yield from _image_entries(entry.path, recursive)
            elif entry.is_file() and is_image_name(entry.name):
                yield entry.path, entry.stat().st_size
        except OSError:
            continue  # a file that vanished or a broken symlink: not an image we can use


def _visible_subdirs(folder: str) -> list[str]:
    out = []
    for entry in os.scandir(folder):
        try:
            if not _is_hidden(entry.name) and entry.is_dir():
                out.append(entry.name)
        except OSError:
            continue
    return sorted(out)


def _find_petimages(root: str) -> str | None:
    """PetImages itself, or the folder holding it (as unzipped from Microsoft's download)."""
    if os.path.basename(os.path.normpath(root)) == "PetImages":
        return root
    inner = os.path.join(root, "PetImages")
    return inner if os.path.isdir(inner) else None


def _kaggle_train_folder(root: str) -> str:
    """Kaggle's unzipped dogs-vs-cats holds train/ (cat.0.jpg...) and test1/ (unlabelled 1.jpg).

    Pointed at that folder, use train/ rather than taking "train" and "test1" as classes.
    """
    train = os.path.join(root, "train")
    if any(True for _ in _image_entries(root, recursive=False)) or not os.path.isdir(train):
        return root
    labels = {_kaggle_label(p) for p, _ in _image_entries(train, recursive=False)} - {None}
    return train if len(labels) >= 2 else root


def _kaggle_label(path: str) -> str | None:
    """'cat' for cat.0.jpg; None for a name with no label part (0.jpg, as in test1/)."""
    stem, _ext = os.path.splitext(os.path.basename(path))
    label = stem.split(".", 1)[0]
    return label if label and "." in stem else None


def _collect_flat(root: str):
    paths, labels, skipped = [], [], []
    for path, size in _image_entries(root, recursive=False):
        label = _kaggle_label(path)
        if size == 0:
            skipped.append((path, "empty file (0 bytes)"))
        elif label is None:
            skipped.append((path, "name has no label before its first dot (expected e.g. cat.0.jpg)"))
        else:
            paths.append(path)
            labels.append(label)
    return paths, labels, skipped


def _collect_class_folders(root: str):
    paths, labels, skipped = [], [], []
    for cls in _visible_subdirs(root):
        for path, size in _image_entries(os.path.join(root, cls), recursive=True):
            if size == 0:
                skipped.append((path, "empty file (0 bytes)"))
            else:
                paths.append(path)
                labels.append(cls)
    return paths, labels, skipped


def _check_root(root) -> str:
    if root is None or str(root).strip() == "":
        raise DatasetError("No folder given: choose a folder of images.")
    path = os.path.abspath(os.path.expanduser(str(root)))
    if not os.path.exists(path):
        raise DatasetError(f"Folder not found: {path}")
    if not os.path.isdir(path):
        raise DatasetError(f"Not a folder: {path} (give the folder that holds the images)")
    return path


def load_dataset(root) -> Dataset:
    """Find the images and their labels under root; raise DatasetError if unusable."""
    root = _check_root(root)
    pet = _find_petimages(root)
    if pet is not None:
        layout, root = "petimages", pet
        paths, labels, skipped = _collect_class_folders(root)
    else:
        root = _kaggle_train_folder(root)
        layout, (paths, labels, skipped) = "kaggle-flat", _collect_flat(root)
        if not paths:  # loose unlabelled files beside class folders: use the folders
            loose = [(p, "not inside a class folder") for p, _ in _image_entries(root, False)]
            layout, (paths, labels, skipped) = "class-folders", _collect_class_folders(root)
            skipped += loose
    return _finish(root, layout, paths, labels, skipped)


def _finish(root, layout, paths, labels, skipped) -> Dataset:
    if not paths:
        raise DatasetError(_no_images_message(root, layout, skipped))
    order = sorted(range(len(paths)), key=paths.__getitem__)
    paths = [paths[i] for i in order]
    labels = [labels[i] for i in order]
    classes = sorted(set(labels))
    if len(classes) < 2:
        raise DatasetError(
            f"Only one class ('{classes[0]}', {len(paths)} images) found in {root}: "
            "a classifier needs images of at least two classes."
        )
    return Dataset(root, layout, paths, labels, classes, sorted(skipped))


def _no_images_message(root: str, layout: str, skipped) -> str:
    exts = " ".join(sorted(IMAGE_EXTENSIONS))
    if skipped:
        return (
            f"No usable images in {root}: {len(skipped)} skipped "
            f"(first: {os.path.basename(skipped[0][0])}: {skipped[0][1]})."
        )
    hint = "Expected cat.0.jpg-style files, one folder per class, or PetImages/Cat and PetImages/Dog."
    return f"No images found in {root} (looked for {exts}). {hint}"
