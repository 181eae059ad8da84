"""Finding images and their labels in a folder, the way users actually have them.

Three layouts are recognised (see `load_dataset`):

- ``kaggle-flat``: Kaggle's Dogs vs Cats ``train/`` folder, ``cat.0.jpg``, ``dog.0.jpg``:
  the label is the file name before its first dot, as in the post. Pointed at the
  unzipped competition folder (``train/`` beside the unlabelled ``test1/``), train/ is used.
- ``petimages``: Microsoft's "Kaggle Cats and Dogs" download, ``PetImages/Cat/0.jpg``.
  It ships empty files (and a few corrupt ones, which only decoding can tell: those
  are reported by feature extraction).
- ``class-folders``: one folder per class, ``root/<class>/**/<anything>.jpg``.

Listing only stats files (no decoding). It is also where the data-folder boundary holds
for every file: given `within` (the app passes its data folder), a link that resolves
outside it is skipped with a reason; a folder link never leads into a loop; and a real
file reached twice (through links) is listed once, so no image can be in both the
training and the test set. Each image's `FileRef` (real path, size, times,
device and inode) is recorded: the feature cache keys on it and every later read checks
it is still the same file.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass, field

from core.images.files import FileRef, ref_of

IMAGE_EXTENSIONS = frozenset({".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff"})
LAYOUTS = ("kaggle-flat", "class-folders", "petimages")
MAX_DEPTH = 16  # folders inside a class folder; deeper is not a dataset anyone made


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
    refs: list[FileRef] = field(default_factory=list)  # parallel to paths: what was found there

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


class _Walk:
    """One listing: the boundary, the folders already entered and the files already seen."""

    def __init__(self, within: str | None):
        self.within = os.path.realpath(within) if within is not None else None
        self.folders: dict[tuple[int, int], str] = {}  # (dev, ino) of every folder entered -> its path
        self.files: dict[str, str] = {}  # real path -> the path listed for it
        self.skipped: list[tuple[str, str]] = []
        self._real_dirs: dict[str, str] = {}

    def _inside(self, real: str) -> bool:
        return self.within is None or real == self.within or real.startswith(self.within + os.sep)

    def _real_dir(self, folder: str) -> str:
        real = self._real_dirs.get(folder)
        if real is None:
            real = self._real_dirs[folder] = os.path.realpath(folder)
        return real

    def enter(self, folder: str) -> bool:
        """May this folder be listed (inside the boundary, not entered before)?"""
        try:
            st = os.stat(folder)
        except OSError:
            return False
        real = self._real_dir(folder)
        if not self._inside(real):
            self.skipped.append((folder, "a folder link that points outside the data folder"))
            return False
        key = (st.st_dev, st.st_ino)
        first = self.folders.setdefault(key, folder)
        if first != folder:
            self.skipped.append((folder, "a folder link back into folders already listed (skipped)"))
            return False
        return True

    def images(self, folder: str, recursive: bool, depth: int = 0):
        """Yield (path, FileRef) of every image under folder, each real file once."""
        try:
            entries = sorted(os.scandir(folder), key=lambda e: e.name)
        except OSError:
            return
        real_folder = self._real_dir(folder)
        for entry in entries:
            if _is_hidden(entry.name):
                continue
            try:
                if entry.is_symlink():
                    yield from self._link(entry, recursive, depth)
                elif entry.is_dir(follow_symlinks=False):
                    if recursive and depth < MAX_DEPTH and self.enter(entry.path):
                        yield from self.images(entry.path, recursive, depth + 1)
                elif is_image_name(entry.name):
                    st = entry.stat(follow_symlinks=False)
                    if stat.S_ISREG(st.st_mode):
                        ref = self._once(entry.path, ref_of(os.path.join(real_folder, entry.name), st))
                        if ref is not None:
                            yield entry.path, ref
                    else:
                        self.skipped.append((entry.path, "not a regular file (a pipe, device or socket)"))
            except OSError:
                continue  # vanished while listing: not an image we can use

    def _link(self, entry: os.DirEntry, recursive: bool, depth: int):
        real = os.path.realpath(entry.path)
        if not self._inside(real):
            self.skipped.append((entry.path, "a link that points outside the data folder"))
            return
        try:
            st = os.stat(real)
        except OSError:
            self.skipped.append((entry.path, "a broken link"))
            return
        if stat.S_ISDIR(st.st_mode):
            if recursive and depth < MAX_DEPTH and self.enter(entry.path):
                yield from self.images(entry.path, recursive, depth + 1)
        elif stat.S_ISREG(st.st_mode) and is_image_name(entry.name):
            ref = self._once(entry.path, ref_of(real, st))
            if ref is not None:
                yield entry.path, ref

    def _once(self, path: str, ref: FileRef) -> FileRef | None:
        # By real path: a link (or a loop of folder links) to a file already listed adds
        # nothing. Hard links are files of their own (the benchmarks make large sets so).
        first = self.files.setdefault(ref.real, path)
        if first != path:
            self.skipped.append((path, f"the same file as {os.path.basename(first)} (listed once)"))
            return None
        return ref


def _visible_subdirs(folder: str) -> list[str]:
    out = []
    for entry in sorted(os.scandir(folder), key=lambda e: e.name):
        try:
            if not _is_hidden(entry.name) and entry.is_dir():
                out.append(entry.name)
        except OSError:
            continue
    return out


def _find_petimages(root: str) -> str | None:
    """PetImages itself, or the folder holding it (as unzipped from Microsoft's download)."""
    if os.path.basename(os.path.normpath(root)) == "PetImages":
        return root
    inner = os.path.join(root, "PetImages")
    return inner if os.path.isdir(inner) else None


def _kaggle_label(path: str) -> str | None:
    """'cat' for cat.0.jpg; None for a name with no label part (0.jpg, as in test1/)."""
    stem, _ext = os.path.splitext(os.path.basename(path))
    label = stem.split(".", 1)[0]
    return label if label and "." in stem else None


def _has_flat_images(folder: str) -> bool:
    try:
        return any(is_image_name(e.name) for e in os.scandir(folder))
    except OSError:
        return False


def _kaggle_train_folder(root: str) -> str:
    """Kaggle's unzipped dogs-vs-cats holds train/ (cat.0.jpg...) and test1/ (unlabelled 1.jpg).

    Pointed at that folder, use train/ rather than taking "train" and "test1" as classes.
    """
    train = os.path.join(root, "train")
    if _has_flat_images(root) or not os.path.isdir(train):
        return root
    try:
        labels = {_kaggle_label(e.name) for e in os.scandir(train) if is_image_name(e.name)} - {None}
    except OSError:
        return root
    return train if len(labels) >= 2 else root


def _collect_flat(walk: _Walk, root: str):
    paths, labels, refs = [], [], []
    for path, ref in walk.images(root, recursive=False):
        label = _kaggle_label(path)
        if ref.size == 0:
            walk.skipped.append((path, "empty file (0 bytes)"))
        elif label is None:
            walk.skipped.append((path, "name has no label before its first dot (expected e.g. cat.0.jpg)"))
        else:
            paths.append(path)
            labels.append(label)
            refs.append(ref)
    return paths, labels, refs


def _collect_class_folders(walk: _Walk, root: str):
    paths, labels, refs = [], [], []
    for cls in _visible_subdirs(root):
        folder = os.path.join(root, cls)
        if not walk.enter(folder):
            continue
        for path, ref in walk.images(folder, recursive=True):
            if ref.size == 0:
                walk.skipped.append((path, "empty file (0 bytes)"))
            else:
                paths.append(path)
                labels.append(cls)
                refs.append(ref)
    return paths, labels, refs


def _check_root(root, within) -> str:
    if root is None or str(root).strip() == "":
        raise DatasetError("No folder given: choose a folder of images.")
    path = os.path.abspath(os.path.expanduser(str(root)))
    if not os.path.exists(path):
        raise DatasetError(f"Folder not found: {path}")
    if not os.path.isdir(path):
        raise DatasetError(f"Not a folder: {path} (give the folder that holds the images)")
    if within is not None and not os.path.realpath(path).startswith(os.path.realpath(within) + os.sep):
        raise DatasetError(f"Refused: {os.path.basename(path)} resolves outside the data folder.")
    return path


def load_dataset(root, within=None) -> Dataset:
    """Find the images and their labels under root; raise DatasetError if unusable.

    within: a folder no file may resolve outside of (the app's data folder); None for a
    folder the user gave on the command line.
    """
    root = _check_root(root, within)
    walk = _Walk(within)
    walk.enter(root)
    pet = _find_petimages(root)
    if pet is not None:
        layout, root = "petimages", pet
        walk.enter(root)
        paths, labels, refs = _collect_class_folders(walk, root)
    else:
        root = _kaggle_train_folder(root)
        walk.enter(root)
        layout, (paths, labels, refs) = "kaggle-flat", _collect_flat(walk, root)
        if not paths:  # loose unlabelled files beside class folders: use the folders
            loose = [p for p, reason in walk.skipped if reason.startswith("name has no label")]
            walk.skipped = [(p, r) for p, r in walk.skipped if not r.startswith("name has no label")]
            walk.files.clear()
            layout, (paths, labels, refs) = "class-folders", _collect_class_folders(walk, root)
            walk.skipped += [(p, "not inside a class folder") for p in loose]
    return _finish(root, layout, paths, labels, refs, walk.skipped)


def _finish(root, layout, paths, labels, refs, skipped) -> Dataset:
    if not paths:
        raise DatasetError(_no_images_message(root, skipped))
    order = sorted(range(len(paths)), key=paths.__getitem__)
    paths = [paths[i] for i in order]
    labels = [labels[i] for i in order]
    refs = [refs[i] for i in order]
    classes = sorted(set(labels))
    if len(classes) < 2:
        raise DatasetError(
            f"Only one class ('{classes[0]}', {len(paths)} images) found in {root}: "
            "a classifier needs images of at least two classes."
        )
    return Dataset(root, layout, paths, labels, classes, sorted(skipped), refs)


def _no_images_message(root: str, skipped) -> str:
    exts = " ".join(sorted(IMAGE_EXTENSIONS))
    if skipped:
        return (
            f"No usable images in {root}: {len(skipped)} skipped "
            f"(first: {os.path.basename(skipped[0][0])}: {skipped[0][1]})."
        )
    hint = "Expected cat.0.jpg-style files, one folder per class, or PetImages/Cat and PetImages/Dog."
    return f"No images found in {root} (looked for {exts}). {hint}"
