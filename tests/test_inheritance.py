import pytest
import torch

from nasviz.estimators import training
from nasviz.estimators.inheritance import inherit, snapshot, weight_units
from nasviz.estimators.training import Training

PARENT = "|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|"
# edge 0 (0->1) changes from a 3x3 to a 1x1 convolution; the other five edges stay
CHILD = "|nor_conv_1x1~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|"


pytestmark = pytest.mark.usefixtures("one_thread")  # data, space, one_thread: tests/conftest.py


def small(data, **kwargs):
    defaults = {"epochs": 2, "channels": 4, "batch_size": 32, "lr": 0.1, "device": "cpu", "inherit": True}
    return Training(data, **{**defaults, **kwargs})


def changed_edge_keys(net, edge):
    """State-dict keys of ``edge``'s op in every cell of a CellNetwork."""
    cells = [pos for pos, layer in enumerate(net.cells) if hasattr(layer, "ops")]
    prefixes = tuple(f"cells.{pos}.ops.{edge}." for pos in cells)
    return [k for k in net.state_dict() if k.startswith(prefixes)]


@pytest.mark.parametrize("cells_per_stage", [1, 2])
def test_inherit_copies_exactly_the_unchanged_parts(space, cells_per_stage):
    parent = space.build(space.from_string(PARENT), channels=4, cells_per_stage=cells_per_stage)
    with torch.no_grad():
        for t in parent.state_dict().values():
            t.add_(7)  # parent tensors now differ from any fresh initialisation
    child = space.build(space.from_string(CHILD), channels=4, cells_per_stage=cells_per_stage)
    fresh = {k: v.clone() for k, v in child.state_dict().items()}
    copied = inherit(child, snapshot(parent))
    changed = changed_edge_keys(child, 0)
    assert len(changed) == 6 * 3 * cells_per_stage  # conv weight + 5 BN tensors, in each cell
    assert copied == len(child.state_dict()) - len(changed)
    for key, value in child.state_dict().items():
        if key in changed:
            assert torch.equal(value, fresh[key])  # the new op keeps its own initialisation
        else:
            assert torch.equal(value, parent.state_dict()[key])


def test_units(space):
    net = space.build(space.from_string(PARENT), channels=4)
    units = weight_units(net)
    assert {"stem", "cells.1.conv_a", "cells.1.downsample", "lastact", "classifier", "cells.0.ops.0"} <= set(units)
    assert "cells.0" not in units and "cells.0.ops.0.1" not in units


def test_child_of_a_trained_parent_inherits_and_trains_fewer_epochs(data, space):
    est = small(data, epochs=2, inherit_epochs=1)
    parent, child = space.from_string(PARENT), space.from_string(CHILD)
    p = est.evaluate(parent)
    assert p.ok and p.metrics["inherited"] is False and p.metrics["epochs"] == 2
    c = est.evaluate(child, parent=parent)
    net = space.build(child, channels=4)
    assert c.ok and c.metrics["inherited"] is True and c.metrics["epochs"] == 1
    assert c.metrics["inherited_tensors"] == len(net.state_dict()) - len(changed_edge_keys(net, 0))
    assert len(c.metrics["val_curve"]) == 1
    # a parent that was never trained here: from scratch, full epochs
    stranger = space.sample(seed=5)
    r = est.evaluate(child, parent=stranger)
    assert r.metrics["inherited"] is False and r.metrics["epochs"] == 2 and r.metrics["inherited_tensors"] == 0


def test_zero_inherit_epochs_judges_the_parent_weights(data, space):
    est = small(data, epochs=1, inherit_epochs=0)
    arch = space.from_string(PARENT)
    p = est.evaluate(arch)
    same = est.evaluate(arch, parent=arch)  # every tensor inherited, nothing trained
    assert same.metrics["epochs"] == 0 and same.metrics["val_curve"] == []
    assert same.score == p.score and same.metrics["test_acc"] == p.metrics["test_acc"]
    assert "train 0 epochs" in est.fidelity


def test_without_inherit_parents_are_ignored(data, space):
    est = Training(data, epochs=1, channels=4, device="cpu")
    parent, child = space.from_string(PARENT), space.from_string(CHILD)
    est.evaluate(parent)
    r = est.evaluate(child, parent=parent)
    assert r.metrics["inherited"] is False and r.metrics["epochs"] == 1
    assert len(est._parents) == 0


def test_batched_children_inherit(data, space):
    est = small(data, epochs=2, inherit_epochs=1)
    parents = [space.from_string(PARENT), space.sample(seed=1), space.sample(seed=2)]
    est.evaluate_many(parents)
    assert len(est._parents) == 3
    children = [space.mutate(p, seed=i) for i, p in enumerate(parents)] + [space.sample(seed=9)]
    results = est.evaluate_many(children, parents=parents + [None])
    assert [r.metrics["inherited"] for r in results] == [True, True, True, False]
    assert [r.metrics["epochs"] for r in results] == [1, 1, 1, 2]
    assert all(r.ok and r.metrics["batched"] for r in results)
    for child, parent, r in zip(children, parents, results):
        net = space.build(child, channels=4)
        edge = next(e for e, (a, b) in enumerate(zip(child.ops, parent.ops)) if a != b)
        assert r.metrics["inherited_tensors"] == len(net.state_dict()) - len(changed_edge_keys(net, edge))
    # batched training stored the trained weights of the children too
    assert all(c in est._parents for c in children)


def test_parent_cache_is_bounded(data, space, monkeypatch):
    monkeypatch.setattr(training, "CACHE_SIZE", 2)
    est = small(data, epochs=1)
    archs = [space.sample(seed=i) for i in range(3)]
    for a in archs:
        est.evaluate(a)
    assert list(est._parents) == archs[1:]
