"""Weight sharing: the supernet's paths are the stand-alone networks, the samplers keep their promises,
and nv.estimators.WeightSharing trains once, reproducibly, and serves every strategy."""

import pickle

import numpy as np
import pytest

import nasviz as nv
from nasviz.errors import InvalidArgumentError, InvalidFileError, NasvizError, UnknownNameError
from nasviz.oneshot import FairSampler, UniformSampler, make_sampler, train_supernet

torch = pytest.importorskip("torch")
pytestmark = pytest.mark.usefixtures("one_thread")

SPACE = nv.CellSpace()
TINY = {"channels": 2, "epochs": 2, "batch_size": 64}  # 269 training images at 4x4: 5 steps an epoch
DEAD = SPACE.from_string("|none~0|+|none~0|nor_conv_1x1~1|+|none~0|nor_conv_3x3~1|nor_conv_3x3~2|")
CONV = SPACE.from_string("|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|")


@pytest.fixture(scope="module")
def tiny():
    return nv.data.digits(resolution=4, subset=0.25)


@pytest.fixture(scope="module")
def trained(tiny):
    est = nv.estimators.WeightSharing(tiny, seed=0, **TINY)
    est.train_supernet()
    return est


def archs(n, seed=0):
    rng = np.random.default_rng(seed)
    return [SPACE.sample(seed=rng) for _ in range(n)] + [DEAD, CONV, SPACE.from_ops(["none"] * 6)]


def shuffled_supernet(seed=0, **sizes):
    """A supernet with random weights and random BatchNorm statistics (so eval mode is not the identity)."""
    from nasviz.oneshot import Supernet

    gen = torch.Generator().manual_seed(seed)
    net = Supernet(SPACE, num_classes=10, in_channels=1, **sizes)
    with torch.no_grad():
        for name, t in net.state_dict().items():
            if t.is_floating_point():
                noise = torch.rand(t.shape, generator=gen)
                t.copy_(0.5 + noise if name.endswith("running_var") else noise - 0.5)
    return net


# -- the supernet: a path is the stand-alone network -----------------------------------------
def test_a_path_is_its_stand_alone_network_with_the_copied_weights():
    from nasviz.spaces.cell_model import CellNetwork

    net = shuffled_supernet(channels=3, cells_per_stage=2).eval()
    x = torch.randn(4, 1, 6, 6, generator=torch.Generator().manual_seed(1))
    before = torch.get_rng_state()
    for arch in archs(6):
        alone = net.network(arch)
        assert not alone.training and isinstance(alone, CellNetwork) and alone.arch == arch
        assert (net(x, arch) - alone(x)).abs().max().item() <= 1e-6, str(arch)
        assert net(x, str(arch)).shape == (4, 10)
    assert torch.equal(before, torch.get_rng_state())  # extracting draws no random numbers
    keys = net.path_keys(CONV)
    assert set(keys) == set(SPACE.build(CONV, channels=3, cells_per_stage=2).state_dict())
    assert keys["cells.0.ops.0.1.weight"] == "cells.0.choices.0.nor_conv_3x3.1.weight"


def test_a_stand_alone_network_copies_into_its_path_and_nowhere_else():
    net = shuffled_supernet(channels=3).eval()
    before = {k: v.clone() for k, v in net.state_dict().items()}
    torch.manual_seed(3)
    alone = SPACE.build(CONV, channels=3).eval()
    with torch.no_grad():
        for t in alone.state_dict().values():
            if t.is_floating_point():
                t.add_(0.25)  # running stats too
    net.load_network(alone)
    x = torch.randn(3, 1, 8, 8)
    assert (net(x, CONV) - alone(x)).abs().max().item() <= 1e-6
    path = set(net.path_keys(CONV).values())
    after = net.state_dict()
    assert all(torch.equal(before[k], after[k]) for k in after if k not in path)
    assert all(not torch.equal(before[k], after[k]) for k in path if after[k].is_floating_point())
    with pytest.raises(InvalidArgumentError, match="sizes"):
        net.load_network(SPACE.build(CONV, channels=4))
    with pytest.raises(InvalidArgumentError, match="does not fit"):
        net.load_network(SPACE.build(CONV, channels=3, cells_per_stage=2))


# -- path sampling ----------------------------------------------------------------------------
def test_uniform_sampling_draws_every_op_on_every_edge():
    s = UniformSampler(SPACE, seed=0)
    paths = np.array([s.sample().ops for _ in range(200)])
    for e in range(len(SPACE.edges)):
        counts = {op: int((paths[:, e] == op).sum()) for op in SPACE.ops}
        assert min(counts.values()) >= 20, counts  # 40 expected of each
    s = UniformSampler(SPACE, train_none=False, seed=0)
    assert not any("none" in s.sample().ops for _ in range(100))


@pytest.mark.parametrize("train_none", [True, False])
def test_fair_sampling_puts_each_op_once_on_every_edge_per_block(train_none):
    s = FairSampler(SPACE, train_none=train_none, seed=0)
    ops = [o for o in SPACE.ops if train_none or o != "none"]
    assert s.block_size == len(ops)
    for _ in range(6):
        block = np.array([s.sample().ops for _ in range(s.block_size)])
        for e in range(len(SPACE.edges)):
            assert sorted(block[:, e]) == sorted(ops)


@pytest.mark.parametrize("name", ["uniform", "fair"])
def test_samplers_are_reproducible_from_their_seed(name):
    def draws(seed):
        s = make_sampler(name, SPACE, seed=seed)
        return [str(s.sample()) for _ in range(20)]

    assert draws(0) == draws(0)
    assert draws(0) != draws(1)


def test_sampler_arguments():
    with pytest.raises(UnknownNameError, match="'greedy'.*'uniform', 'fair'"):
        make_sampler("greedy", SPACE)
    with pytest.raises(InvalidArgumentError, match="CellSpace"):
        UniformSampler(nv.MacroSpace())
    with pytest.raises(InvalidArgumentError, match="no op"):
        FairSampler(nv.CellSpace(ops=("none",)), train_none=False)


# -- training the supernet ---------------------------------------------------------------------
def test_supernet_training_reduces_the_loss():
    import copy

    import torch.nn.functional as F

    from nasviz.oneshot import Supernet

    data = nv.data.digits(subset=0.25)
    torch.manual_seed(0)
    net = Supernet(SPACE, channels=4)
    start = copy.deepcopy(net)
    stats = train_supernet(net, data, UniformSampler(SPACE, seed=0), epochs=8, batch_size=32,
                           optimizer=lambda p: torch.optim.SGD(p, lr=0.05, momentum=0.9, nesterov=True),
                           lr_at=lambda s, t: 0.05, seed=0)
    assert stats["failed_epoch"] == -1 and stats["steps"] == 8 * 9 and len(stats["accuracy"]) == 8
    assert stats["seconds"] > 0 and all(0 <= a <= 1 for a in stats["accuracy"])

    def loss(model, arch):  # the loss of a path on the training images, batch statistics
        with torch.no_grad():
            return float(F.cross_entropy(model.train()(data.X_train, arch), data.y_train))

    paths = [a for a in archs(12, seed=2) if SPACE.is_connected(a)]
    before = np.mean([loss(start, a) for a in paths])
    after = np.mean([loss(net, a) for a in paths])
    assert after < before - 0.2, (before, after)


def test_the_estimator_trains_once_and_reports_it(tiny, trained):
    stats = trained.train_supernet()
    assert set(stats) >= {"seconds", "loss", "accuracy", "steps", "epochs"} and len(stats["loss"]) == 2
    assert trained.supernet_seconds == stats["seconds"] > 0
    r = trained.evaluate(CONV)
    assert r.ok and 0 <= r.score <= 1 and r.metrics["supernet_seconds"] == stats["seconds"]
    assert r.cost < stats["seconds"] * 10 and r.metrics["params"] == nv.count_params(SPACE.build(CONV, channels=2))
    assert trained.train_supernet() == stats  # no second training
    lazy = nv.estimators.WeightSharing(tiny, seed=0, **TINY)
    assert lazy.supernet_seconds is None
    assert lazy.evaluate(CONV).score == r.score and lazy.supernet_seconds is not None


def test_same_seed_same_supernet_and_scores_another_seed_others(tiny, trained):
    again = nv.estimators.WeightSharing(tiny, seed=0, **TINY)
    other = nv.estimators.WeightSharing(tiny, seed=1, **TINY)
    again.train_supernet()
    mine, theirs = trained.supernet_.state_dict(), again.supernet_.state_dict()
    assert all(torch.equal(mine[k], theirs[k]) for k in mine)
    cells = archs(4, seed=5)
    scores = [trained.evaluate(a).score for a in cells]
    assert [again.evaluate(a).score for a in cells] == scores
    assert [r.score for r in trained.evaluate_many(cells)] == scores  # any order, any call: the same
    assert [other.evaluate(a).score for a in cells] != scores
    assert not torch.equal(other.supernet_.state_dict()["stem.0.weight"], mine["stem.0.weight"])


def test_disconnected_cells_score_chance_like_stand_alone_training(trained, tiny):
    r = trained.evaluate(SPACE.from_ops(["none"] * 6))
    dead = trained.evaluate(DEAD)
    assert r.ok and dead.ok and not r.metrics["connected"] and not dead.metrics["connected"]
    assert r.score <= 0.25 and dead.score <= 0.25  # 10 classes: chance is 0.1
    alone = nv.estimators.Training(tiny, epochs=1, channels=2, device="cpu").evaluate(DEAD)
    assert alone.ok and alone.score <= 0.25


def test_finetuning_changes_the_copy_never_the_shared_weights(tmp_path, tiny, trained):
    est = nv.estimators.WeightSharing(tiny, seed=0, finetune_steps=6, **TINY)
    est.train_supernet()
    before = {k: v.clone() for k, v in est.supernet_.state_dict().items()}
    r = est.evaluate(CONV)
    assert r.ok and r.metrics["finetune_steps"] == 6
    assert all(torch.equal(before[k], v) for k, v in est.supernet_.state_dict().items())
    copy = est.network(CONV)
    plain = trained.supernet_.network(CONV)
    assert not torch.equal(copy.stem[0].weight, plain.stem[0].weight)
    assert est.evaluate(CONV).score == r.score
    loaded = nv.estimators.WeightSharing.load(est.save(tmp_path / "tuned.pt"), tiny)  # keeps finetune_steps
    assert loaded.finetune_steps == 6 and loaded.evaluate(CONV).score == r.score


# -- files -------------------------------------------------------------------------------------
def test_save_and_load_give_identical_scores(tmp_path, tiny, trained):
    path = trained.save(tmp_path / "supernet.pt")
    loaded = nv.estimators.WeightSharing.load(path, tiny)
    assert loaded.supernet_seconds == trained.supernet_seconds
    also = nv.estimators.WeightSharing(tiny, seed=0, supernet=str(path), **TINY)
    cells = archs(3, seed=7)
    expected = [trained.evaluate(a).score for a in cells]
    assert [loaded.evaluate(a).score for a in cells] == expected
    assert [also.evaluate(a).score for a in cells] == expected
    assert nv.estimators.WeightSharing.load(path, tiny, bn_batches=2).bn_batches == 2  # evaluation settings: free


def test_a_mismatching_or_foreign_file_is_refused(tmp_path, tiny, trained):
    path = trained.save(tmp_path / "supernet.pt")
    with pytest.raises(InvalidArgumentError, match=r"epochs=2, seed=0; this estimator has epochs=3, seed=4"):
        nv.estimators.WeightSharing(tiny, channels=2, epochs=3, seed=4, supernet=path)
    with pytest.raises(InvalidArgumentError, match="data="):
        nv.estimators.WeightSharing.load(path, nv.data.digits(resolution=4, subset=0.5))
    with pytest.raises(InvalidArgumentError, match="channels=2"):
        nv.estimators.WeightSharing.load(path, tiny, channels=3)
    with pytest.raises(InvalidFileError, match="no supernet file"):
        nv.estimators.WeightSharing(tiny, supernet=tmp_path / "missing.pt")
    (tmp_path / "junk.pt").write_bytes(b"not a torch file")
    with pytest.raises(InvalidFileError, match="not a supernet file"):
        nv.estimators.WeightSharing.load(tmp_path / "junk.pt", tiny)
    torch.save({"weights": torch.zeros(2)}, tmp_path / "other.pt")
    with pytest.raises(InvalidFileError, match="not a supernet file"):
        nv.estimators.WeightSharing.load(tmp_path / "other.pt", tiny)


def test_a_trained_estimator_pickles_with_its_supernet(trained):
    copy = pickle.loads(pickle.dumps(trained))
    assert copy.evaluate(CONV).score == trained.evaluate(CONV).score
    assert copy.train_supernet() == trained.train_supernet()


def test_a_diverging_supernet_fails_every_evaluation_with_the_reason(tiny):
    est = nv.estimators.WeightSharing(tiny, channels=2, epochs=1, lr=1e30, schedule="constant")
    r = est.evaluate(CONV)
    assert r.status == "failed" and "smaller lr" in r.error
    assert est.evaluate(DEAD).error == r.error
    with pytest.raises(InvalidArgumentError, match="non-finite"):
        est.train_supernet()


# -- every strategy runs on it ----------------------------------------------------------------
@pytest.mark.parametrize("strategy", [
    lambda s: nv.strategies.RandomSearch(s, seed=0),
    lambda s: nv.strategies.RegularizedEvolution(s, population=3, sample=2, seed=0),
])
def test_searches_run_on_a_supernet(trained, strategy):
    history = nv.Search(SPACE, strategy(SPACE), trained, budget=6, seed=0).run(progress=False)
    assert len(history) == 6 and not history.failed
    assert all(0 <= t.score <= 1 and "supernet_seconds" in t.metrics for t in history)


# -- bad arguments -----------------------------------------------------------------------------
@pytest.mark.parametrize("kwargs, match", [
    ({"epochs": -1}, "epochs must be an integer >= 0, got -1"),
    ({"sampling": "greedy"}, "unknown sampling 'greedy'; accepted: 'uniform', 'fair'"),
    ({"space": nv.MacroSpace()}, "space must be a CellSpace"),
    ({"space": "cells"}, "space must be a CellSpace.*'cells'"),
    ({"bn_batches": -2}, "bn_batches must be an integer >= 0, got -2"),
    ({"finetune_steps": 1.5}, "finetune_steps must be an integer >= 0, got 1.5"),
    ({"lr": 0}, r"lr must be a number in \(0, inf\), got 0"),
    ({"optimizer": "rmsprop"}, "unknown optimizer 'rmsprop'; accepted: 'sgd', 'adam'"),
    ({"train_none": "no"}, "train_none must be True or False, got 'no'"),
    ({"seed": -1}, "seed must be"),
    ({"channels": 0}, "channels must be an integer >= 1, got 0"),
    ({"device": "tpu"}, "unknown device 'tpu'"),
    ({"supernet": 3}, "supernet must be None or the path"),
])
def test_bad_arguments_name_the_value_and_what_is_accepted(tiny, kwargs, match):
    with pytest.raises(NasvizError, match=match):
        nv.estimators.WeightSharing(tiny, **kwargs)


def test_data_of_the_wrong_type_is_refused():
    with pytest.raises(InvalidArgumentError, match="data must be a nasviz Data split.*list"):
        nv.estimators.WeightSharing([1, 2, 3])
    with pytest.raises(InvalidArgumentError, match="data must be"):
        nv.estimators.WeightSharing(np.zeros((4, 1, 8, 8)))
