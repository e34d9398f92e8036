import numpy as np
import pytest
import torch

import nasviz as nv
from nasviz.errors import InvalidArgumentError, ShapeError


def test_digits_split_is_fixed_stratified_and_disjoint():
    d = nv.data.digits()
    assert len(d.y_train) + len(d.y_val) + len(d.y_test) == 1797
    # stratified: every part has every class in close to the overall proportion
    for y in (d.y_train, d.y_val, d.y_test):
        counts = np.bincount(y.numpy(), minlength=10) / len(y)
        assert counts.min() > 0.08 and counts.max() < 0.12
    # disjoint: no image appears in two parts
    rows = lambda X: {tuple(r) for r in X.reshape(len(X), -1).numpy().round(4)}  # noqa: E731
    assert not rows(d.X_train) & rows(d.X_test)
    # fixed: another seed changes nothing without a subset
    d2 = nv.data.digits(seed=7)
    assert torch.equal(d.X_val, d2.X_val) and torch.equal(d.y_train, d2.y_train)


def test_resolution_averages_blocks():
    full, low = nv.data.digits(), nv.data.digits(resolution=4)
    assert low.input_shape == (1, 4, 4)
    expected = full.X_train.reshape(-1, 1, 4, 2, 4, 2).mean(dim=(3, 5))
    assert torch.allclose(low.X_train, expected, atol=1e-6)
    assert nv.data.digits(resolution=1).input_shape == (1, 1, 1)


def test_subset_is_stratified_and_seeded():
    a, b, c = (nv.data.digits(subset=0.25, seed=s) for s in (0, 0, 1))
    assert torch.equal(a.X_train, b.X_train)
    assert not torch.equal(a.X_train, c.X_train)
    assert abs(len(a.y_train) - 0.25 * 1077) < 10
    assert set(np.unique(a.y_train.numpy())) == set(range(10))
    full = nv.data.digits()
    assert torch.equal(a.X_val, full.X_val)  # validation untouched


@pytest.mark.parametrize("kwargs, fragment", [
    ({"resolution": 9}, "resolution must be an integer in \\[1, 8\\]"),
    ({"resolution": 0}, "got 0"),
    ({"subset": 0}, "subset must be a fraction"),
    ({"subset": 1.5}, "1.5"),
    ({"val_fraction": 0.5, "test_fraction": 0.5}, "leave training data"),
])
def test_bad_arguments(kwargs, fragment):
    with pytest.raises(InvalidArgumentError, match=fragment):
        nv.data.digits(**kwargs)


def test_from_tensors_and_dataset():
    rng = np.random.default_rng(0)
    X = rng.random((200, 3, 6, 6)).astype(np.float32)
    y = np.repeat(np.arange(4), 50)
    d = nv.data.from_tensors(X, y)
    assert d.input_shape == (3, 6, 6) and d.num_classes == 4
    assert len(d.y_train) + len(d.y_val) + len(d.y_test) == 200
    ds = torch.utils.data.TensorDataset(torch.as_tensor(X), torch.as_tensor(y))
    d2 = nv.data.from_dataset(ds)
    assert torch.equal(d.X_test, d2.X_test)
    with pytest.raises(ShapeError, match="one label per image"):
        nv.data.from_tensors(X, y[:-1])
    with pytest.raises(ShapeError, match="square"):
        nv.data.from_tensors(rng.random((10, 1, 6, 5)), np.zeros(10, int))
    with pytest.raises(ShapeError, match="\\(N, C, H, W\\)"):
        nv.data.from_tensors(rng.random((10, 6)), np.zeros(10, int))


def test_shifted_digits_paste_each_split_image_somewhere_on_the_canvas():
    plain, d = nv.data.digits(), nv.data.shifted_digits(canvas=12)
    assert d.input_shape == (1, 12, 12) and d.name == "shifted_digits"
    for part in ("train", "val", "test"):
        X, base = getattr(d, f"X_{part}"), getattr(plain, f"X_{part}")
        assert torch.equal(getattr(d, f"y_{part}"), getattr(plain, f"y_{part}"))  # the same images, in order
        # every image holds its 8x8 digit exactly at one offset, and nothing else
        for x, b in zip(X[:50], base[:50]):
            hits = [(r, c) for r in range(5) for c in range(5) if torch.equal(x[0, r:r + 8, c:c + 8], b[0])]
            assert hits, "digit not found on the canvas"
            r, c = hits[0]
            assert float(x.sum()) == pytest.approx(float(b.sum()), abs=1e-4)
    offsets = {tuple(np.argwhere(x[0].numpy() > 0).min(0)) for x in d.X_train[:200]}
    assert len(offsets) > 10  # digits sit at many places
    assert torch.equal(nv.data.shifted_digits(canvas=12).X_train, d.X_train)  # a fixed task


def test_shifted_digits_views_and_copies():
    d2 = nv.data.shifted_digits(canvas=12, copies=2)
    assert len(d2.y_train) == 2 * 1077 and len(d2.y_val) == 2 * 360
    assert torch.equal(d2.y_train[:1077], d2.y_train[1077:])
    low = nv.data.shifted_digits(canvas=12, resolution=6)
    full = nv.data.shifted_digits(canvas=12)
    assert torch.allclose(low.X_val, full.X_val.reshape(-1, 1, 6, 2, 6, 2).mean(dim=(3, 5)), atol=1e-6)
    small = nv.data.shifted_digits(canvas=12, subset=0.25)
    assert abs(len(small.y_train) - 0.25 * 1077) < 10 and torch.equal(small.X_val, full.X_val)
    noisy = nv.data.shifted_digits(canvas=12, noise=0.1)
    assert float((full.X_val == 0).float().mean()) > 0.5 and float((noisy.X_val == 0).float().mean()) == 0
    assert float(noisy.X_val.mean()) == pytest.approx(float(full.X_val.mean()), abs=0.01)  # zero-mean noise


@pytest.mark.parametrize("kwargs, fragment", [
    ({"canvas": 7}, "canvas"), ({"canvas": 12.5}, "canvas"), ({"copies": 0}, "copies"),
    ({"noise": -0.1}, "noise"), ({"resolution": 13}, "resolution must be an integer in \\[1, 12\\]"),
    ({"subset": 0}, "subset must be a fraction"),
])
def test_shifted_digits_bad_arguments(kwargs, fragment):
    with pytest.raises(InvalidArgumentError, match=fragment):
        nv.data.shifted_digits(**{"canvas": 12, **kwargs})


def test_shifted201_task_is_pinned():
    """shifted201's journal was trained on these exact images: an edit that moves a digit changes the table."""
    import hashlib

    d = nv.data.shifted_digits(canvas=12)
    parts = b"".join(getattr(d, k).numpy().tobytes() for k in ("X_train", "y_train", "X_val", "y_val", "X_test",
                                                                  "y_test"))
    assert hashlib.sha256(parts).hexdigest() == "5b22b5a22cb56620a959d33dc993432caea3fb5d60967cdcf7c85f0e69d32933"
