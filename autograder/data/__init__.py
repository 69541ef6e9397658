"""The course's data, shipped inside the package: nothing is downloaded at run time.

``digits.npz`` holds the UCI handwritten digits (8x8 images, 10 classes), as bundled with
scikit-learn: E. Alpaydin and C. Kaynak (1998), Optical Recognition of Handwritten Digits, UCI
Machine Learning Repository, https://doi.org/10.24432/C50P49, licensed CC BY 4.0. It is the test
part of the UCI set, 1797 images (README.md in this folder has the details).

* :func:`load_digits` gives all of it, ``X`` (1797, 64) float64 in [0, 1] and ``y`` (1797,) int64.
* :func:`digits_split` gives the course's one FIXED split into training (60%), validation (20%)
  and test (20%) sets, stratified by class and drawn with :data:`SPLIT_SEED`. The capstone's grader
  trains on the first two and keeps the test set to itself: the test images reach a student's code
  only after training, to be classified, and their labels never do. So its probe (in the student's
  process) uses :func:`training_and_validation_sets` and, after training, :func:`held_out_images`; the
  trusted parent alone uses :func:`held_out_labels`.

The data are public (anyone can download them), so "held out" is a protocol, not a secret: the
grader never hands the test set to training, nor its labels to student code. (Code that loads this
file itself could train on the test set; no check claims to catch that.)
"""

from __future__ import annotations

import functools
import hashlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

DIGITS_FILE = Path(__file__).with_name("digits.npz")
#: SHA-256 of the images (uint8, C order) and of the labels (uint8) inside ``digits.npz``.
DIGITS_SHA256 = {
    "images": "8f26b2bd9d135c256808f68f14fdabddde6d9c7f869ae419704b051f0f14b3b3",
    "labels": "8ba4f891220f5e4c9c819638d1602d74b83618f167043c6da52a2a247841ddf0",
}
N_IMAGES, N_PIXELS, N_CLASSES = 1797, 64, 10
#: Pixels count the "on" cells of a 4x4 block of the 32x32 bitmap: 0..16.
PIXEL_MAX = 16

SPLIT_SEED = 20_240_601
#: training, validation, test (the test set takes what the other two leave of each class)
SPLIT_FRACTIONS = (0.6, 0.2, 0.2)


class DigitsDataError(RuntimeError):
    """``digits.npz`` is missing or not the file the course shipped."""


@dataclass(frozen=True)
class DigitsSplit:
    """The fixed split. ``X_*``: (N, 64) float64 in [0, 1]; ``y_*``: (N,) int64 labels 0..9."""

    X_train: np.ndarray
    y_train: np.ndarray
    X_val: np.ndarray
    y_val: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray


@functools.lru_cache(maxsize=1)
def _raw_digits() -> tuple[np.ndarray, np.ndarray]:
    if not DIGITS_FILE.is_file():
        raise DigitsDataError(f"{DIGITS_FILE} is missing: reinstall the package (it ships the data)")
    with np.load(DIGITS_FILE) as archive:
        images, labels = archive["images"], archive["labels"]
    for name, array in (("images", images), ("labels", labels)):
        if hashlib.sha256(np.ascontiguousarray(array).tobytes()).hexdigest() != DIGITS_SHA256[name]:
            raise DigitsDataError(f"{DIGITS_FILE} has unexpected {name}: it is not the file the course shipped")
    images.setflags(write=False)
    labels.setflags(write=False)
    return images, labels


def load_digits() -> tuple[np.ndarray, np.ndarray]:
    """All 1797 digits: ``X`` (1797, 64) float64, the 8x8 pixels row by row scaled to [0, 1]
    (divided by 16), and ``y`` (1797,) int64 labels 0..9. New arrays on every call."""
    images, labels = _raw_digits()
    return images.astype(np.float64) / PIXEL_MAX, labels.astype(np.int64)


def split_indices(y: np.ndarray, seed: int = SPLIT_SEED,
                  fractions: tuple[float, float, float] = SPLIT_FRACTIONS) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Indices of a stratified split of labels ``y`` into training, validation and test sets.

    Each class is shuffled with ``numpy.random.default_rng(seed)`` and cut by ``fractions`` (rounded
    per class; the test set takes the rest), so every set holds each class in about the same
    proportion. The three index arrays are disjoint, cover ``y`` and come in a shuffled order.
    """
    if len(fractions) != 3 or min(fractions) <= 0 or abs(sum(fractions) - 1.0) > 1e-9:
        raise ValueError(f"fractions must be three positive numbers summing to 1, got {fractions}")
    rng = np.random.default_rng(seed)
    parts: tuple[list, list, list] = ([], [], [])
    for label in np.unique(y):
        members = rng.permutation(np.flatnonzero(y == label))
        n_train = round(fractions[0] * members.size)
        n_val = round(fractions[1] * members.size)
        parts[0].append(members[:n_train])
        parts[1].append(members[n_train:n_train + n_val])
        parts[2].append(members[n_train + n_val:])
    return tuple(rng.permutation(np.concatenate(part)) for part in parts)


def digits_split() -> DigitsSplit:
    """The course's fixed split of :func:`load_digits` (:data:`SPLIT_SEED`, 60 / 20 / 20 percent).
    New arrays on every call."""
    X, y = load_digits()
    train, val, test = split_indices(y)
    return DigitsSplit(X[train], y[train], X[val], y[val], X[test], y[test])


def training_and_validation_sets() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """``(X_train, y_train, X_val, y_val)`` of :func:`digits_split`: all that training may see."""
    split = digits_split()
    return split.X_train, split.y_train, split.X_val, split.y_val


def held_out_images() -> np.ndarray:
    """``X_test`` (360, 64) of :func:`digits_split`: the held-out images, without their labels."""
    return digits_split().X_test


def held_out_labels() -> np.ndarray:
    """``y_test`` (360,) of :func:`digits_split`: for the trusted parent that judges."""
    return digits_split().y_test
