"""The post's training settings, each default with the reason it has that value.

The Train page offers exactly the choices listed here (BIN_CHOICES, ALPHAS, EPOCHS), and
a model file is accepted only within them (core.learn.model): what the app cannot make
itself, it does not load.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass

# 12x12x12 is the largest: 1,728 float32 features x 25,000 images is already 173 MB in memory.
BIN_CHOICES = ((4, 4, 4), (8, 8, 8), (12, 12, 12), (8, 4, 4), (16, 4, 4))
MAX_FEATURES = max(h * s * v for h, s, v in BIN_CHOICES)
ALPHAS = (1e-6, 1e-5, 1e-4, 1e-3, 1e-2, 1e-1)
EPOCHS = (1, 50)  # the Epochs slider's range
MAX_CLASSES = 100  # classes in one dataset or model file: far beyond any colour-histogram task
LOSSES = {"log_loss": "sgd-log", "hinge": "sgd-hinge"}  # SGD loss -> SavedModel kind
# What the post reports on all 25,000 Kaggle training images: the one place these figures live.
POST_ACCURACY = {"softmax": 0.65, "svm": 0.64}


class TrainingError(ValueError):
    """Data that cannot be trained on as asked; the message is meant for the user."""


@dataclass(frozen=True)
class TrainConfig:
    bins: tuple[int, int, int] = (8, 8, 8)  # the post's 8x8x8 HSV histogram: 512 features
    test_size: float = 0.25  # the post's train_test_split(test_size=0.25)
    split_seed: int = 42  # the post's random_state=42 for the split: same images in test
    sgd_seed: int = 967  # the post's SGDClassifier(random_state=967): same shuffles, same model
    epochs: int = 10  # the post's n_iter=10; today max_iter=10 with tol=None so all 10 run
    loss: str = "log_loss"  # the post's loss="log" (renamed): softmax/cross-entropy; "hinge" = its Linear SVM
    alpha: float = 1e-4  # scikit-learn's default regularisation; the post leaves it unset
    fast: bool = True  # reduced JPEG decode: ~4x less work, same accuracy within noise; False = the post's exact features

    def __post_init__(self):
        try:
            bins = tuple(int(b) for b in self.bins)
        except (TypeError, ValueError):
            raise TrainingError(f"bins must be three numbers, got {self.bins!r}") from None
        object.__setattr__(self, "bins", bins)
        if len(bins) != 3 or not all(1 <= b <= 256 for b in bins):
            raise TrainingError(f"bins must be three numbers from 1 to 256, got {self.bins}")
        if not 0 < self.test_size < 1:
            raise TrainingError(f"test size must be between 0 and 1, got {self.test_size}")
        if int(self.epochs) < 1:
            raise TrainingError(f"epochs must be at least 1, got {self.epochs}")
        if not self.alpha > 0:
            raise TrainingError(f"alpha must be positive, got {self.alpha}")
        if self.loss not in LOSSES:
            raise TrainingError(f"loss must be one of {sorted(LOSSES)}, got {self.loss!r}")

    def key(self) -> str:
        """A short stable hash: the same settings give the same saved-model file name."""
        text = json.dumps(asdict(self), sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:8]

    def as_meta(self) -> dict:
        """The settings as a model file's JSON header keeps them."""
        d = asdict(self)
        d["bins"] = list(self.bins)
        return d

    def summary(self) -> str:
        """'8x8x8 bins, fast features, 10 epochs, alpha 1e-04, split seed 42'."""
        return (
            f"{'x'.join(map(str, self.bins))} bins, {'fast' if self.fast else 'exact'} features, "
            f"{self.epochs} epochs, alpha {self.alpha:.0e}, test size {self.test_size:g}, "
            f"split seed {self.split_seed}"
        )
