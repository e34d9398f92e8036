"""Small datasets that ship with their packages, and the low-fidelity views of them.

``digits`` is scikit-learn's handwritten digits (1,797 8x8 grey images, 10 classes,
bundled with scikit-learn: nothing downloads). It is split once, stratified and
with a fixed seed, into train / validation / test parts. Searches select on
validation; test is kept apart for reporting.

Two performance-estimation proxies are plain arguments:

- ``resolution`` < 8 averages pixel blocks (area interpolation): lower-resolution data;
- ``subset`` < 1 keeps a stratified fraction of the training part: less data.

Examples
--------
>>> import nasviz as nv
>>> d = nv.data.digits()
>>> d.X_train.shape[1:], d.num_classes
(torch.Size([1, 8, 8]), 10)
>>> len(d.y_train), len(d.y_val), len(d.y_test)
(1077, 360, 360)
>>> nv.data.digits(resolution=4, subset=0.5).X_train.shape
torch.Size([537, 1, 4, 4])
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np

from .errors import InvalidArgumentError, ShapeError
from .validation import check_finite_array, check_int, check_number, check_seed

__all__ = ["Data", "digits", "shifted_digits", "from_tensors", "from_dataset", "SPLIT_SEED", "check_data"]

SPLIT_SEED = 20201  # the fixed seed of every train/validation/test split


@dataclass(frozen=True, eq=False)
class Data:
    """Train / validation / test tensors of an image classification task.

    ``X_*`` are float32 tensors shaped (N, C, H, W); ``y_*`` int64 class labels.
    """

    X_train: object
    y_train: object
    X_val: object
    y_val: object
    X_test: object
    y_test: object
    num_classes: int
    name: str = "custom"
    info: dict = field(default_factory=dict)

    @property
    def input_shape(self) -> tuple[int, int, int]:
        """(C, H, W) of one image."""
        return tuple(int(s) for s in self.X_train.shape[1:])

    @property
    def in_channels(self) -> int:
        return self.input_shape[0]

    def to(self, device) -> "Data":
        """The same data on ``device`` (a torch device or its name)."""
        moved = {k: getattr(self, k).to(device) for k in ("X_train", "y_train", "X_val", "y_val", "X_test", "y_test")}
        return replace(self, **moved)

    def __repr__(self) -> str:
        c, h, w = self.input_shape
        extra = "".join(f", {k}={v!r}" for k, v in self.info.items())
        return (f"Data({self.name!r}, {c}x{h}x{w}, classes={self.num_classes}, train={len(self.y_train)}, "
                f"val={len(self.y_val)}, test={len(self.y_test)}{extra})")


_PARTS = ("X_train", "y_train", "X_val", "y_val", "X_test", "y_test", "num_classes")


def check_data(data) -> None:
    """Raise :class:`~nasviz.errors.InvalidArgumentError` unless ``data`` is a nasviz Data split."""
    for name in _PARTS:
        if not hasattr(data, name):
            raise InvalidArgumentError(
                f"data must be a nasviz Data split (e.g. nv.data.digits()), got {type(data).__name__} "
                f"without {name!r}")


def _split_indices(y: np.ndarray, val_fraction: float, test_fraction: float):
    from sklearn.model_selection import train_test_split

    idx = np.arange(len(y))
    try:
        rest, test = train_test_split(idx, test_size=test_fraction, stratify=y, random_state=SPLIT_SEED)
        train, val = train_test_split(rest, test_size=val_fraction / (1 - test_fraction), stratify=y[rest],
                                      random_state=SPLIT_SEED)
    except ValueError as err:  # too few images of a class (or in all) for a stratified three-way split
        labels, counts = np.unique(y, return_counts=True)
        per_class = ", ".join(f"{int(c)}: {int(n)}" for c, n in zip(labels, counts))
        raise InvalidArgumentError(
            f"cannot split {len(y)} images into stratified train/validation/test parts (val_fraction="
            f"{val_fraction}, test_fraction={test_fraction}); images per class: {per_class}. Every class needs "
            f"a few images in each part: add images, or change the fractions ({err})") from None
    return np.sort(train), np.sort(val), np.sort(test)


def _stratified_subset(y: np.ndarray, subset: float, seed) -> np.ndarray:
    """Indices of a stratified fraction ``subset`` of ``y`` (at least one per class)."""
    rng = np.random.default_rng(seed)
    keep = []
    for c in np.unique(y):
        members = np.flatnonzero(y == c)
        n = max(1, int(round(subset * len(members))))
        keep.append(rng.choice(members, size=n, replace=False))
    return np.sort(np.concatenate(keep))


def _check_fraction(name: str, value) -> float:
    try:
        return check_number(name, value, minimum=0, maximum=1, min_open=True)
    except InvalidArgumentError:
        raise InvalidArgumentError(f"{name} must be a fraction in (0, 1], got {value!r}") from None


def _check_resolution(resolution, side: int, what: str) -> None:
    """``resolution`` must be None or an integer in [1, side]."""
    if resolution is None:
        return
    try:
        check_int("resolution", resolution, minimum=1, maximum=side)
    except InvalidArgumentError:
        raise InvalidArgumentError(f"resolution must be an integer in [1, {side}] ({what} {side}x{side}), "
                                   f"got {resolution!r}") from None


def _build(X: np.ndarray, y: np.ndarray, *, resolution, subset, seed, val_fraction, test_fraction,
           num_classes, name, info) -> Data:
    import torch
    import torch.nn.functional as F

    subset = _check_fraction("subset", subset)
    seed = check_seed("seed", seed)
    if not isinstance(name, str):
        raise InvalidArgumentError(f"name must be a string, got {name!r}")
    for label, frac in (("val_fraction", val_fraction), ("test_fraction", test_fraction)):
        check_number(label, frac, minimum=0, maximum=1, min_open=True, max_open=True)
    if val_fraction + test_fraction >= 1:
        raise InvalidArgumentError(
            f"val_fraction + test_fraction must leave training data, got {val_fraction} + {test_fraction}")
    h = X.shape[-1]
    _check_resolution(resolution, h, "the images are")
    train, val, test = _split_indices(y, val_fraction, test_fraction)
    if subset < 1:
        train = train[_stratified_subset(y[train], subset, seed)]
    Xt = torch.as_tensor(X, dtype=torch.float32)
    if resolution is not None and resolution != h:
        Xt = F.interpolate(Xt, size=(int(resolution), int(resolution)), mode="area")
    yt = torch.as_tensor(y, dtype=torch.int64)
    pick = lambda idx: torch.as_tensor(idx, dtype=torch.int64)  # noqa: E731
    info = dict(info)
    if resolution is not None:
        info["resolution"] = int(resolution)
    info.update(subset=subset, seed=seed)
    return Data(Xt[pick(train)].contiguous(), yt[pick(train)], Xt[pick(val)].contiguous(), yt[pick(val)],
                Xt[pick(test)].contiguous(), yt[pick(test)], num_classes=int(num_classes), name=name, info=info)


def digits(resolution: int = 8, subset: float = 1.0, seed=0, *, val_fraction: float = 0.2,
           test_fraction: float = 0.2) -> Data:
    """scikit-learn's handwritten digits as a :class:`Data` split.

    Parameters
    ----------
    resolution : int
        Image side in pixels, 1..8. Below 8, blocks of pixels are averaged (area
        interpolation): the lower-resolution proxy.
    subset : float
        Fraction of the training part to keep (stratified; validation and test are
        unchanged): the less-data proxy.
    seed : int or None
        Chooses the subset (an integer >= 0). The train/validation/test split itself is fixed.
    val_fraction, test_fraction : float
        Sizes of the validation and test parts (stratified).

    Examples
    --------
    >>> d = digits(resolution=8)
    >>> float(d.X_train.max()) <= 1.0, d.input_shape
    (True, (1, 8, 8))
    """
    from sklearn.datasets import load_digits

    bunch = load_digits()
    X = (bunch.images.astype(np.float32) / 16.0)[:, None, :, :]
    return _build(X, bunch.target.astype(np.int64), resolution=resolution, subset=subset, seed=seed,
                  val_fraction=val_fraction, test_fraction=test_fraction, num_classes=10, name="digits", info={})


def shifted_digits(canvas: int = 12, copies: int = 1, noise: float = 0.0, resolution: int | None = None,
                   subset: float = 1.0, seed=0, *, val_fraction: float = 0.2, test_fraction: float = 0.2) -> Data:
    """scikit-learn's digits, each pasted at a random place on a larger empty canvas: a harder task.

    The 8x8 digits are split as :func:`digits` splits them (same images in each part),
    then each image becomes ``copies`` images, the digit pasted at an offset drawn
    uniformly from ``0..canvas-8`` in each direction, optionally with Gaussian pixel
    noise of standard deviation ``noise``. Offsets and noise come from a fixed generator
    (the task is the same in every process); a network must find the digit wherever it
    is, which separates architectures that pool and see far from those that do not.

    Parameters
    ----------
    canvas : int
        Side of the canvas, 8..64 (8: the plain digits, no shift).
    copies : int
        Shifted copies of every image (each part keeps its own images: a validation
        digit never appears in training at another place).
    noise : float
        Standard deviation of Gaussian pixel noise added to every pixel (pixels are 0..1).
    resolution : int or None
        Below ``canvas``, pixel blocks are averaged (the lower-resolution proxy).
    subset, seed, val_fraction, test_fraction
        As in :func:`digits` (``subset`` keeps a stratified fraction of the training
        images before copying).

    Examples
    --------
    >>> d = shifted_digits(canvas=12)
    >>> d.input_shape, len(d.y_train), len(d.y_val)
    ((1, 12, 12), 1077, 360)
    >>> bool((shifted_digits(canvas=12).X_val == d.X_val).all())  # the same task every time
    True
    >>> shifted_digits(canvas=12, resolution=6, copies=2).X_train.shape
    torch.Size([2154, 1, 6, 6])
    """
    import torch
    import torch.nn.functional as F

    canvas = check_int("canvas", canvas, minimum=8, maximum=64)
    copies = check_int("copies", copies, minimum=1, maximum=16)
    noise = check_number("noise", noise, minimum=0, maximum=1)
    _check_resolution(resolution, canvas, "the canvas is")
    subset = _check_fraction("subset", subset)
    seed = check_seed("seed", seed)
    base = digits(val_fraction=val_fraction, test_fraction=test_fraction)
    # one generator over the whole parts (train, validation, test, in that order), so that an image sits at
    # the same place whatever the subset, and the validation and test images are the full task's
    rng = np.random.default_rng([SPLIT_SEED, canvas, copies, round(noise * 1000)])
    parts = {}
    for part in ("train", "val", "test"):
        X, y = getattr(base, f"X_{part}").numpy(), getattr(base, f"y_{part}")
        n = len(X)
        out = np.zeros((n * copies, 1, canvas, canvas), dtype=np.float32)
        offsets = rng.integers(0, canvas - 7, size=(n * copies, 2))
        for j, (r, c) in enumerate(offsets):
            out[j, :, r:r + 8, c:c + 8] = X[j % n]
        if noise:
            out += rng.normal(0.0, noise, size=out.shape).astype(np.float32)
        Xt, yt = torch.from_numpy(out), y.repeat(copies)
        if part == "train" and subset < 1:  # the images digits(subset=...) keeps, with all their copies
            keep = _stratified_subset(y.numpy(), subset, seed)
            rows = torch.as_tensor((keep[None, :] + n * np.arange(copies)[:, None]).ravel(), dtype=torch.int64)
            Xt, yt = Xt[rows], yt[rows]
        if resolution is not None and resolution != canvas:
            Xt = F.interpolate(Xt, size=(int(resolution), int(resolution)), mode="area")
        parts[f"X_{part}"], parts[f"y_{part}"] = Xt.contiguous(), yt
    info = dict(base.info, canvas=canvas, copies=copies, noise=noise, subset=subset, seed=seed)
    if resolution is not None:
        info["resolution"] = int(resolution)
    return Data(**parts, num_classes=10, name="shifted_digits", info=info)


def from_tensors(X, y, *, num_classes: int | None = None, val_fraction: float = 0.2, test_fraction: float = 0.2,
                 resolution: int | None = None, subset: float = 1.0, seed=0, name: str = "custom") -> Data:
    """Your own images as a :class:`Data` split (stratified, fixed split seed).

    ``X``: array or tensor (N, C, H, W) or (N, H, W) of square images, real and finite
    numbers; ``y``: N integer labels ``0..num_classes-1``, at least two classes present.
    ``num_classes`` defaults to the largest label + 1.

    Examples
    --------
    >>> import numpy as np
    >>> X = np.random.default_rng(0).random((100, 6, 6)); y = np.arange(100) % 2
    >>> from_tensors(X, y).input_shape
    (1, 6, 6)
    """
    X = check_finite_array("X", X, dtype=np.float32)
    y = np.asarray(y.detach().cpu() if hasattr(y, "detach") else y)
    if X.ndim == 3:
        X = X[:, None]
    if X.ndim != 4:
        raise ShapeError(f"X must be shaped (N, C, H, W) or (N, H, W), got shape {X.shape}")
    if X.shape[-1] != X.shape[-2]:
        raise ShapeError(f"images must be square, got H x W = {X.shape[-2]} x {X.shape[-1]}")
    if y.ndim != 1 or len(y) != len(X):
        raise ShapeError(f"y must hold one label per image ({len(X)}), got shape {y.shape}")
    if not np.issubdtype(y.dtype, np.integer):
        raise InvalidArgumentError(f"y must hold integer class labels 0, 1, ..., got dtype {y.dtype}")
    if y.min() < 0:
        raise InvalidArgumentError(f"y must hold non-negative integer class labels, got {int(y.min())}")
    present = np.unique(y)
    if len(present) < 2:
        raise InvalidArgumentError(f"y must hold at least 2 classes to classify, got only class {int(present[0])}")
    k = int(y.max()) + 1 if num_classes is None else check_int("num_classes", num_classes, minimum=2)
    if y.max() >= k:
        raise InvalidArgumentError(f"label {int(y.max())} is not below num_classes={k}")
    return _build(X, y.astype(np.int64), resolution=resolution, subset=subset, seed=seed, val_fraction=val_fraction,
                  test_fraction=test_fraction, num_classes=k, name=name, info={})


def from_dataset(dataset, **kwargs) -> Data:
    """A torch ``Dataset`` of (image tensor, label) pairs as a :class:`Data` split (see :func:`from_tensors`)."""
    import torch

    xs, ys = [], []
    for x, y in dataset:
        xs.append(torch.as_tensor(x))
        ys.append(int(y))
    if not xs:
        raise ShapeError("the dataset is empty")
    return from_tensors(torch.stack(xs), np.asarray(ys), **kwargs)
