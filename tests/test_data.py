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
