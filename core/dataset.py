"""Datasets in a folder (names other code relies on); the work is in core.data.dataset."""

from core.data.dataset import IMAGE_EXTENSIONS, Dataset, DatasetError, is_image_name, load_dataset

__all__ = ["IMAGE_EXTENSIONS", "Dataset", "DatasetError", "is_image_name", "load_dataset"]
