import itertools
import json
import pickle
from collections import Counter

import networkx as nx
import numpy as np
import pytest

import nasviz as nv
from nasviz.errors import (
    InvalidArchitectureError,
    InvalidArgumentError,
    NasvizError,
    ShapeError,
    UnknownNameError,
    UnknownOpError,
)
from nasviz.spaces.macro import MacroLayer

EXAMPLE = "conv(16,k3,s1,relu,d0.0) > max_pool(k3,s2) > identity > sep_conv(32,k3,s1,gelu,d0.2)"


@pytest.fixture(scope="module")
def space():
    return nv.MacroSpace()


def small_space(**kwargs):
    args = {"max_layers": 2, "filters": (4, 8), "kernel_sizes": (1, 3), "strides": (1, 2),
            "activations": ("relu", "gelu"), "dropouts": (0.0,), "input_shape": (1, 3, 3), **kwargs}
    return nv.MacroSpace(**args)


# -- an independent reference: every distinct layer, every chain, shapes by hand --------
def reference_layers(sp):
    out = []
    for op in sp.ops:
        if op in ("conv", "sep_conv"):
            for f, k, s, a, d in itertools.product(sp.filters, sp.kernel_sizes, sp.strides, sp.activations,
                                                   sp.dropouts):
                out.append(MacroLayer(op, f, k, s, a, float(d)))
        elif op in ("max_pool", "avg_pool"):
            for k, s in itertools.product(sp.kernel_sizes, sp.strides):
                out.append(MacroLayer(op, kernel=k, stride=s))
        else:
            out.append(MacroLayer("identity"))
    return out


def reference_feasible(sp, layers):
    h, w = sp.input_shape[1:]
    for layer in layers:
        if layer.op == "identity":
            continue
        if layer.kernel > min(h, w) or layer.stride > min(h, w):
            return False
        pad = (layer.kernel - 1) // 2
        h = (h + 2 * pad - layer.kernel) // layer.stride + 1
        w = (w + 2 * pad - layer.kernel) // layer.stride + 1
    return True


def reference_chains(sp):
    per_layer = reference_layers(sp)
    chains = set()
    for depth in range(1, sp.max_layers + 1):
        for layers in itertools.product(per_layer, repeat=depth):
            if reference_feasible(sp, layers):
                chains.add(layers)
    return chains


@pytest.mark.parametrize("kwargs", [
    {},
    {"input_shape": (2, 5, 7), "kernel_sizes": (2, 3), "strides": (1, 3)},
    {"ops": ("conv", "max_pool"), "input_shape": (1, 4, 4), "kernel_sizes": (3,), "max_layers": 3},
])
def test_count_equals_brute_force(kwargs):
    sp = small_space(**kwargs)
    archs = list(sp.enumerate())
    assert len(set(archs)) == len(archs) == len(sp)
    assert {a.layers for a in archs} == reference_chains(sp)
    assert sum(sp.count_by_depth().values()) == len(sp)
    assert Counter(a.depth for a in archs) == sp.count_by_depth()
    # the generic view: every decision tuple that needs no repair, de-duplicated, is the same set
    via_decisions = {sp.from_decisions(v) for v in itertools.product(*(d.choices for d in sp.decisions))
                     if sp._valid(v)}
    assert via_decisions == set(archs)


def test_index_and_getitem_follow_enumerate():
    sp = small_space(max_layers=3, kernel_sizes=(3,), activations=("relu",), input_shape=(1, 4, 4))
    archs = list(sp.enumerate())
    assert len(archs) > 500
    assert all(sp.index(a) == i for i, a in enumerate(archs))
    assert all(sp[i] == archs[i] for i in range(0, len(archs), 7))
    assert sp[-1] == archs[-1]
    with pytest.raises(InvalidArgumentError, match=str(len(archs))):
        sp[len(archs)]


def test_index_without_enumerating_a_large_space(space):
    n = len(space)
    assert n > 10**7
    rng = np.random.default_rng(0)
    for i in [0, 1, 104, 105, n - 1] + [int(x) for x in rng.integers(n, size=50)]:
        assert space.index(space[i]) == i
    assert space[0].depth == 1 and space[n - 1].depth == space.max_layers


def test_counts_explode_with_depth():
    # on a large input nothing is excluded: depth d has exactly c**d chains
    sp = nv.MacroSpace(max_layers=3, input_shape=(1, 32, 32))
    c = 2 * 3 * 2 * 2 * 2 * 2 + 2 * 2 * 2 + 1
    assert sp.count_by_depth() == {1: c, 2: c**2, 3: c**3}
    assert len(sp) == c + c**2 + c**3
    # on 8x8 images, stride-2 layers shrink the map and rule out later large kernels
    small = nv.MacroSpace(max_layers=3)
    counts = small.count_by_depth(up_to=6)
    assert counts[1] == c
    assert all(counts[d] < c**d for d in range(2, 7))
    assert all(counts[d + 1] > 50 * counts[d] for d in range(1, 6))


def test_exclusions_are_real(space):
    too_many_strides = "conv(8,k3,s2,relu,d0.0) > conv(8,k3,s2,relu,d0.0) > conv(8,k3,s2,relu,d0.0)"
    with pytest.raises(InvalidArchitectureError, match="2x2 feature map"):
        space.from_string(too_many_strides)
    with pytest.raises(InvalidArchitectureError, match="does not fit"):
        space.from_string("max_pool(k3,s2) > conv(8,k5,s1,relu,d0.0)")  # 5x5 kernel on a 4x4 map
    for i in range(300):
        arch = space.sample(seed=i)
        shapes = arch.shapes
        for layer, (c, h, w) in zip(arch.layers, shapes):
            if layer.op != "identity":
                assert layer.kernel <= min(h, w) and layer.stride <= min(h, w)
        assert min(min(s[1:]) for s in shapes) >= 1


def test_from_decisions_normalises_and_repairs(space):
    a = space.from_string("max_pool(k3,s2)")
    padding = [None] * 18
    for filters, act, drop in [(8, "relu", 0.0), (32, "gelu", 0.2)]:
        assert space.from_decisions([1, "max_pool", filters, 3, 2, act, drop] + padding) == a
    assert space.from_decisions(a.decisions) == a
    # unused layers are ignored, whatever valid choices they hold
    other = list(a.decisions)
    other[7:13] = ["sep_conv", 32, 5, 2, "gelu", 0.2]
    assert space.from_decisions(other) == a
    assert space.from_decisions([1, "max_pool", None, 3, 2, None, None]) == a  # short form
    # numpy scalars (e.g. from an array of choices) become the space's plain values
    b = space.from_decisions([np.int64(1), "conv", np.int64(16), np.int64(3), np.int64(1), "relu", np.float64(0.2)])
    assert type(b.layers[0].filters) is int and type(b.decisions[0]) is int
    assert space.from_json(b.to_json()) == b
    # a decision walker choosing independently always gets a member
    rng = np.random.default_rng(0)
    repaired = 0
    for _ in range(300):
        values = [d.choices[rng.integers(len(d.choices))] for d in space.decisions]
        arch = space.from_decisions(values)
        assert arch in space and space.to_decisions(arch) == arch.decisions
        assert all(v in d.choices for v, d in zip(arch.decisions, space.decisions))
        repaired += not space._valid(tuple(values))
    assert repaired > 0
    # the repair: 5x5 on a 4x4 map becomes 3x3; nothing fits a 2x2 map, so identity
    fixed = space.from_decisions([3, "conv", 8, 3, 2, "relu", 0.0, "conv", 8, 5, 2, "relu", 0.0,
                                  "max_pool", 8, 3, 1, "relu", 0.0] + [None] * 6)
    assert str(fixed) == "conv(8,k3,s2,relu,d0.0) > conv(8,k3,s2,relu,d0.0) > identity"


def test_from_decisions_errors(space):
    with pytest.raises(UnknownOpError, match="'conv', 'sep_conv'"):
        space.from_decisions([1, "dense", 8, 3, 1, "relu", 0.0])
    with pytest.raises(InvalidArchitectureError, match="expected 25 decisions"):
        space.from_decisions([1, "conv", 8])
    with pytest.raises(InvalidArchitectureError, match="unknown depth 7"):
        space.from_decisions([7] + [None] * 24)
    with pytest.raises(InvalidArchitectureError, match="unknown filters 12"):
        space.from_decisions([1, "conv", 12, 3, 1, "relu", 0.0])
    with pytest.raises(InvalidArchitectureError, match="conv needs a filters"):
        space.from_decisions([1, "conv", None, 3, 1, "relu", 0.0])


def test_string_round_trip(space):
    a = space.from_string(EXAMPLE)
    assert str(a) == EXAMPLE
    assert a.ops == ("conv", "max_pool", "identity", "sep_conv")
    assert a.layers[0] == MacroLayer("conv", 16, 3, 1, "relu", 0.0)
    assert a.layers[1] == MacroLayer("max_pool", kernel=3, stride=2)
    assert a.layers[2] == MacroLayer("identity")
    assert repr(a) == f"MacroArchitecture('{EXAMPLE}')"
    for i in range(200):
        arch = space.sample(seed=i)
        assert space.from_string(str(arch)) == arch
        assert space.canonical(str(arch)) == str(arch) == space.canonical(arch)


def test_string_normalisation(space):
    a = space.from_string(EXAMPLE)
    messy = ("conv(relu, d0, 16, s1, k3)>max_pool(8,k3,s2,gelu,d0.2) >  identity() > "
             "sep_conv(32,k3,s1,gelu,d0.2)")
    assert space.from_string(messy) == a
    assert space.canonical(messy) == EXAMPLE


@pytest.mark.parametrize("text, error, fragment", [
    ("dense(16,k3,s1,relu,d0.0)", UnknownOpError, "'sep_conv'"),
    ("conv(16,k3,s1,swish,d0.0)", InvalidArchitectureError, "unknown activation 'swish'"),
    ("conv(12,k3,s1,relu,d0.0)", InvalidArchitectureError, "unknown filters 12"),
    ("conv(12,k3,s1,relu,d0.0)", InvalidArchitectureError, "accepted: 8, 16, 32"),
    ("conv(16,k3,relu,d0.0)", InvalidArchitectureError, "missing its stride"),
    ("conv(16,k3,k5,s1,relu,d0.0)", InvalidArchitectureError, "kernel given twice"),
    ("conv(16,k3,s1,relu,d0.x)", InvalidArchitectureError, "malformed dropout"),
    ("conv(16,k3,s1,relu,d0.0", InvalidArchitectureError, "malformed layer"),
    ("conv(16,k3,s1,relu,3x3)", InvalidArchitectureError, "malformed field '3x3'"),
    ("identity > > identity", InvalidArchitectureError, "malformed layer ''"),
    ("identity > identity > identity > identity > identity", InvalidArchitectureError, "allows 1..4"),
    ("max_pool(16,k3,s2,tanh)", InvalidArchitectureError, "unknown activation 'tanh'"),
])
def test_bad_strings_name_the_problem(space, text, error, fragment):
    with pytest.raises(error, match=fragment.replace("(", r"\(").replace(".", r"\.")) as info:
        space.from_string(text)
    assert isinstance(info.value, ValueError)


def test_immutable_hashable_pickle(space):
    a, b = space.from_string(EXAMPLE), space.from_string(EXAMPLE)
    assert a == b and hash(a) == hash(b) and a is not b and len({a, b}) == 1
    with pytest.raises(AttributeError):
        a.layers = ()
    with pytest.raises(AttributeError):
        a.layers[0].op = "identity"
    assert pickle.loads(pickle.dumps(a)) == a
    assert a != space.from_string("identity")


def test_json_round_trip(space):
    for i in range(30):
        a = space.sample(seed=i)
        text = a.to_json()
        assert json.loads(text)["decisions"] == list(a.decisions)
        assert space.from_json(text) == a
    with pytest.raises(InvalidArchitectureError, match="not an architecture JSON"):
        space.from_json("{oops")


def test_membership(space):
    a = space.from_string(EXAMPLE)
    assert a in space
    assert a not in nv.MacroSpace(max_layers=3)           # too deep
    assert a not in nv.MacroSpace(input_shape=(1, 4, 4))  # 3x3 kernel on a 2x2 map
    assert a not in nv.MacroSpace(filters=(8, 32))
    assert a not in nv.CellSpace()
    with pytest.raises(InvalidArchitectureError, match="not a member"):
        nv.MacroSpace(max_layers=3).index(a)


def test_sample_is_seeded_and_uniform():
    sp = small_space()
    assert sp.sample(seed=1) == sp.sample(seed=1)
    rng = np.random.default_rng(0)
    assert sp.sample(seed=rng) != sp.sample(seed=rng)
    draws = [sp.sample(seed=s) for s in range(4000)]
    counts = sp.count_by_depth()
    share = sum(a.depth == 1 for a in draws) / len(draws)
    expected = counts[1] / len(sp)
    assert abs(share - expected) < 0.25 * expected + 0.005
    # every member is reachable and none is much more likely than the others
    freq = Counter(draws)
    assert len(freq) > 0.95 * len(sp)
    assert max(freq.values()) < 5 * len(draws) / len(sp)


def test_sample_huge_space_is_seeded():
    huge = nv.MacroSpace(max_layers=12, input_shape=(3, 64, 64))
    assert huge.size == sum(huge.count_by_depth().values()) > 2**64
    with pytest.raises(OverflowError, match="space.size"):
        len(huge)
    a = huge.sample(seed=3)
    assert a == huge.sample(seed=3) and a in huge
    assert huge[huge.index(a)] == a and huge.index(a) < huge.size


def diff(a, b):
    """('change', n settings) when depths match, else ('depth', delta)."""
    if a.depth != b.depth:
        return ("depth", b.depth - a.depth)
    return ("change", sum(x != y for x, y in zip(a.decisions, b.decisions)))


def test_mutate_one_setting_or_one_layer(space):
    a = space.from_string(EXAMPLE)
    kinds = Counter()
    for s in range(60):
        m = space.mutate(a, seed=s)
        assert m in space and m != a
        kind, n = diff(a, m)
        kinds[kind, n] += 1
        if kind == "depth":
            shorter, longer = (m, a) if n < 0 else (a, m)
            assert any(longer.layers[:i] + longer.layers[i + 1:] == shorter.layers for i in range(longer.depth))
        else:
            # an op change also normalises the settings that stop applying
            changed = [i for i, (x, y) in enumerate(zip(a.layers, m.layers)) if x != y]
            assert len(changed) == 1
            x, y = a.layers[changed[0]], m.layers[changed[0]]
            assert x.op != y.op or sum(u != v for u, v in zip(x, y)) == 1
    assert set(kinds) >= {("change", 1), ("depth", -1)}
    assert space.mutate(a, seed=5) == space.mutate(a, seed=5)
    three = space.from_string("conv(16,k3,s1,relu,d0.0) > identity")
    assert any(diff(three, space.mutate(three, seed=s)) == ("depth", 1) for s in range(20))


def test_neighbors(space):
    a = space.from_string("conv(16,k3,s2,relu,d0.0) > max_pool(k3,s1)")
    nbrs = space.neighbors(a)
    assert len(nbrs) == len(set(nbrs)) and a not in nbrs
    assert all(n in space for n in nbrs)
    # conv: 4 other ops, 2 filters, 1 kernel, 1 stride, 1 activation, 1 dropout; pool: 4 ops and 1 stride
    # (its 5x5 kernel would not fit the 4x4 map the stride-2 conv leaves)
    changes = [n for n in nbrs if n.depth == 2]
    assert len(changes) == 10 + 5
    assert "conv(16,k3,s2,relu,d0.0) > max_pool(k5,s1)" not in map(str, changes)
    removals = [n for n in nbrs if n.depth == 1]
    assert sorted(map(str, removals)) == ["conv(16,k3,s2,relu,d0.0)", "max_pool(k3,s1)"]
    insertions = [n for n in nbrs if n.depth == 3]
    assert len(insertions) > 105 and all(space.index(n) >= 0 for n in insertions)
    assert set(space.neighbors(nbrs[0])) >= {a}
    # a stride change that would make a later 5x5 kernel misfit is left out
    b = space.from_string("conv(16,k3,s1,relu,d0.0) > conv(16,k3,s1,relu,d0.0) > conv(16,k5,s1,relu,d0.0)")
    b_nbrs = space.neighbors(b)
    assert all(reference_feasible(space, n.layers) for n in b_nbrs)
    assert "conv(16,k3,s2,relu,d0.0) > conv(16,k3,s1,relu,d0.0) > conv(16,k5,s1,relu,d0.0)" not in map(str, b_nbrs)
    assert "conv(16,k3,s1,relu,d0.0) > conv(16,k3,s1,relu,d0.0) > conv(16,k5,s2,relu,d0.0)" in map(str, b_nbrs)


def test_encode(space):
    a = space.from_string("conv(16,k3,s1,relu,d0.0) > max_pool(k3,s2)")
    v = space.encode(a)
    assert v.shape == (4 + 4 * (5 + 3 + 2 + 2 + 2 + 2),) and v.dtype == np.float32
    # depth 2; conv sets 6 blocks, pooling 3 (op, kernel, stride); padding slots stay zero
    assert v[:4].tolist() == [0, 1, 0, 0]
    assert v.sum() == 1 + 6 + 3
    assert not v[4 + 2 * 16:].any()
    assert space.encode(space.sample(seed=0)).shape == v.shape
    sp = small_space()
    codes = {space_code.tobytes() for space_code in map(sp.encode, sp.enumerate())}
    assert len(codes) == len(sp)  # distinct architectures, distinct vectors
    with pytest.raises(UnknownNameError, match="'onehot'"):
        space.encode(a, kind="path")


def test_networkx(space):
    a = space.from_string(EXAMPLE)
    g = a.to_networkx()
    assert isinstance(g, nx.DiGraph)
    assert list(g.nodes) == [0, 1, 2, 3, 4, 5]
    assert list(g.edges) == [(0, 1), (1, 2), (2, 3), (3, 4), (4, 5)]
    assert g.nodes[0]["kind"] == "input" and g.nodes[5]["kind"] == "head"
    assert all(g.nodes[i]["kind"] == "layer" for i in range(1, 5))
    conv, pool, ident, sep = (g.nodes[i] for i in range(1, 5))
    assert (conv["op"], conv["filters"], conv["kernel"], conv["stride"], conv["activation"], conv["dropout"]) == (
        "conv", 16, 3, 1, "relu", 0.0)
    assert conv["label"] == "conv 16\n3x3 s1\nrelu"
    assert (pool["filters"], pool["kernel"], pool["stride"], pool["activation"], pool["dropout"]) == (
        None, 3, 2, None, None)
    assert ident["kernel"] is None and ident["label"] == "identity"
    assert sep["label"] == "sep_conv 32\n3x3 s1\ngelu\ndrop 0.2"
    shapes = [g.edges[i, i + 1]["shape"] for i in range(5)]
    assert shapes == [(1, 8, 8), (16, 8, 8), (16, 4, 4), (16, 4, 4), (32, 4, 4)]


def test_build_forward_many_archs():
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    for shape in [(1, 8, 8), (3, 4, 4), (2, 5, 7)]:
        sp = nv.MacroSpace(input_shape=shape, num_classes=5)
        rng = np.random.default_rng(1)
        archs = [sp.sample(seed=rng) for _ in range(15)]
        archs += [sp.from_decisions([d.choices[rng.integers(len(d.choices))] for d in sp.decisions])
                  for _ in range(10)]
        for arch in archs:
            net = sp.build(arch)
            out = net(torch.randn(2, *shape))
            assert out.shape == (2, 5) and torch.isfinite(out).all()
            # the model's feature maps are the shapes the architecture reports
            x = torch.zeros(1, *shape)
            for layer, expected in zip(net.layers, arch.shapes[1:]):
                x = layer(x)
                assert tuple(x.shape[1:]) == expected


def test_build_options_and_counts(space):
    torch = pytest.importorskip("torch")
    a = space.from_string("conv(8,k3,s1,relu,d0.0) > sep_conv(16,k3,s2,gelu,d0.2)")
    net = space.build(a)
    assert net(torch.zeros(1, 1, 8, 8)).shape == (1, 10)
    # conv 9*8 + BN 16; depthwise 8*9 + pointwise 8*16 + BN 32; linear 16*10 + 10
    assert nv.count_params(net) == 72 + 16 + 72 + 128 + 32 + 170
    assert nv.count_flops(net, (1, 8, 8)) > nv.count_flops(space.build(space.from_string("identity")), (1, 8, 8))
    other = space.build(a, num_classes=3, in_channels=3)
    assert other(torch.zeros(2, 3, 8, 8)).shape == (2, 3)
    net.eval()
    x = torch.randn(4, 1, 8, 8)
    assert torch.equal(net(x), net(x))  # dropout is off in eval mode
    with pytest.raises(InvalidArgumentError, match="channels"):
        space.build(a, channels=16)
    with pytest.raises(InvalidArchitectureError, match="not a member"):
        nv.MacroSpace(filters=(4,)).build(a)


@pytest.mark.parametrize("kwargs, error, fragment", [
    ({"max_layers": 0}, InvalidArgumentError, "max_layers must be an integer >= 1, got 0"),
    ({"ops": ("conv", "dense")}, UnknownOpError, "unknown op 'dense'; accepted: 'conv'"),
    ({"ops": "conv"}, InvalidArgumentError, "the string 'conv'"),
    ({"ops": ()}, InvalidArgumentError, "at least one"),
    ({"filters": (8, 8)}, InvalidArgumentError, "distinct"),
    ({"filters": (8, 0)}, InvalidArgumentError, "got 0"),
    ({"kernel_sizes": (3, 2.5)}, InvalidArgumentError, "got 2.5"),
    ({"strides": (True,)}, InvalidArgumentError, "got True"),
    ({"activations": ("relu", "swish")}, UnknownNameError, "unknown activation 'swish'; accepted: 'relu'"),
    ({"dropouts": (0.0, 1.0)}, InvalidArgumentError, "got 1.0"),
    ({"input_shape": (8, 8)}, ShapeError, "got (8, 8)"),
    ({"input_shape": (1, 8, -8)}, ShapeError, "(channels, height, width)"),
    ({"num_classes": 0}, InvalidArgumentError, "num_classes"),
    ({"ops": ("conv",), "kernel_sizes": (5,), "input_shape": (1, 4, 4)}, InvalidArgumentError, "no layer fits"),
])
def test_bad_constructor_arguments(kwargs, error, fragment):
    with pytest.raises(error) as info:
        nv.MacroSpace(**kwargs)
    assert fragment in str(info.value)
    assert isinstance(info.value, NasvizError)


def test_constructor_stores_arguments_and_repr():
    ops = ["conv", "max_pool"]
    sp = nv.MacroSpace(max_layers=2, ops=ops, dropouts=(0, 0.5))
    assert sp.ops is ops and sp.max_layers == 2 and sp.dropouts == (0, 0.5)
    assert repr(sp) == "MacroSpace(max_layers=2, ops=('conv', 'max_pool'), dropouts=(0.0, 0.5))"
    assert repr(nv.MacroSpace()) == "MacroSpace()"
    assert sp == nv.MacroSpace(max_layers=2, ops=("conv", "max_pool"), dropouts=(0.0, 0.5)) != nv.MacroSpace()
    assert str(sp.from_string("conv(8,k3,s1,relu,d0) > max_pool(k3,s1)")) == \
        "conv(8,k3,s1,relu,d0.0) > max_pool(k3,s1)"


def test_without_identity_the_chain_is_cut():
    sp = nv.MacroSpace(max_layers=4, ops=("conv",), filters=(4,), kernel_sizes=(3,), strides=(2,),
                       activations=("relu",), dropouts=(0.0,), input_shape=(1, 8, 8))
    # 8 -> 4 -> 2: a third 3x3 layer never fits
    assert sp.count_by_depth() == {1: 1, 2: 1, 3: 0, 4: 0}
    assert len(list(sp.enumerate())) == len(sp) == 2
    assert sp.from_decisions([4] + ["conv", 4, 3, 2, "relu", 0.0] * 4).depth == 2


def test_decisions_layout(space):
    names = [d.name for d in space.decisions]
    assert len(names) == 1 + 6 * 4
    assert names[:8] == ["depth", "layer 1 op", "layer 1 filters", "layer 1 kernel", "layer 1 stride",
                         "layer 1 activation", "layer 1 dropout", "layer 2 op"]
    assert space.decisions[0].choices == (1, 2, 3, 4)


def test_import_is_light():
    import subprocess
    import sys

    code = ("import sys, nasviz as nv; s = nv.MacroSpace(); a = s.sample(seed=0); s.neighbors(a); "
            "a.to_networkx(); print(sorted(m for m in ('torch','matplotlib','ipywidgets') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_a_space_pickles_after_its_decisions_were_read():
    import pickle

    for space in (nv.MacroSpace(), nv.MacroSpace(max_layers=2), nv.CellSpace()):
        space.decisions  # cached Decision tuples must pickle too (spaces travel to worker processes)
        again = pickle.loads(pickle.dumps(space))
        assert again == space and again.decisions == space.decisions
        assert again.sample(seed=3) == space.sample(seed=3)


# -- hidden fully connected layers (the head) ------------------------------------------------

def head_space(**kwargs):
    """A tiny space with a head: 2 layers of few choices, then 0..2 hidden layers of 8 or 16 units."""
    return small_space(ops=("conv", "max_pool", "identity"), filters=(4,), activations=("relu",),
                       max_fc_layers=2, fc_units=(8, 16), **kwargs)


def chains_only():
    """``head_space()``'s chains without a head."""
    return small_space(ops=("conv", "max_pool", "identity"), filters=(4,), activations=("relu",))


REFERENCE_HEADS = [(), (8,), (16,), (8, 8), (8, 16), (16, 8), (16, 16)]


def test_head_count_equals_brute_force():
    sp, plain = head_space(), chains_only()
    archs = list(sp.enumerate())
    assert len(set(archs)) == len(archs) == len(sp) == sp.size
    assert {(a.layers, a.fc) for a in archs} == {(c, h) for c in reference_chains(sp) for h in REFERENCE_HEADS}
    assert len(sp) == 7 * len(reference_chains(sp)) == 7 * len(plain) and 100 < len(sp) < 2000
    assert sp.count_by_depth() == {d: 7 * n for d, n in plain.count_by_depth().items()}
    assert Counter(a.depth for a in archs) == sp.count_by_depth()
    assert sum(sp.count_by_depth().values()) == len(sp)
    assert sp.count_by_depth(up_to=3)[3] == 7 * plain.count_by_depth(up_to=3)[3]
    # the generic view over every decision tuple (units beyond the fc depth included) gives the same set
    via_decisions = {sp.from_decisions(v) for v in itertools.product(*(d.choices for d in sp.decisions))
                     if sp.is_valid(v)}
    assert via_decisions == set(archs)


def test_head_index_and_getitem_round_trip_over_every_member():
    sp = head_space()
    archs = list(sp.enumerate())
    assert all(sp.index(a) == i for i, a in enumerate(archs))
    assert all(sp[i] == a for i, a in enumerate(archs))
    assert sp[-1] == archs[-1] and sp[-1].fc == (16, 16)
    # the head is the fastest-varying digit: seven heads per chain, in order
    assert [a.fc for a in archs[:8]] == REFERENCE_HEADS + [()]
    assert len({a.layers for a in archs[:7]}) == 1 and archs[7].layers != archs[0].layers
    with pytest.raises(InvalidArgumentError, match=str(len(sp))):
        sp[len(sp)]


def test_head_index_of_a_large_space_without_enumerating():
    sp = nv.MacroSpace(max_fc_layers=3, fc_units=(16, 32, 64))
    assert len(sp) == len(nv.MacroSpace()) * (1 + 3 + 9 + 27)
    rng = np.random.default_rng(0)
    n = len(sp)
    for i in [0, 1, 39, 40, n - 1] + [int(x) for x in rng.integers(n, size=40)]:
        assert sp.index(sp[i]) == i
    assert sp[n - 1].fc == (64, 64, 64) and sp[39].fc == (64, 64, 64) and sp[40].fc == ()


def test_head_sample_is_seeded_and_uniform():
    sp = head_space()
    assert sp.sample(seed=4) == sp.sample(seed=4) and sp.sample(seed=4) in sp
    draws = [sp.sample(seed=s) for s in range(3000)]
    share = Counter(len(a.fc) for a in draws)
    for d, expected in [(0, 1 / 7), (1, 2 / 7), (2, 4 / 7)]:
        assert abs(share[d] / len(draws) - expected) < 0.04


def test_head_string_round_trip():
    sp = head_space()
    a = sp.from_string("conv(4,k3,s1,relu,d0.0) > max_pool(k1,s2) | fc(8) > fc(16)")
    assert a.fc == (8, 16) and a.depth == 2
    assert str(a) == "conv(4,k3,s1,relu,d0.0) > max_pool(k1,s2) | fc(8) > fc(16)"
    assert repr(a) == f"MacroArchitecture('{a}')"
    for arch in sp.enumerate():
        assert sp.from_string(str(arch)) == arch
        assert sp.canonical(str(arch)) == str(arch) == sp.canonical(arch)
    assert str(sp.from_string("identity")) == "identity" and sp.from_string("identity").fc == ()
    messy = "conv(relu,d0,4,s1,k3)>max_pool(4,k1,s2) |fc( 8 )>  fc(16) "
    assert sp.from_string(messy) == a and sp.canonical(messy) == str(a)


@pytest.mark.parametrize("text, fragment", [
    ("identity |", "nothing after '|'"),
    ("identity | ", "fc(units) joined by ' > '"),
    ("identity | fc(12)", "unknown fc units 12 in fc layer 1 of 'identity | fc(12)'; accepted: 8, 16"),
    ("identity | fc(8) > fc(32)", "unknown fc units 32 in fc layer 2"),
    ("identity | fc8", "malformed fully connected layer 'fc8'"),
    ("identity | dense(8)", "malformed fully connected layer 'dense(8)'"),
    ("identity | fc(8) > > fc(8)", "malformed fully connected layer ''"),
    ("identity | fc(-8)", "malformed fully connected layer 'fc(-8)'"),
    ("identity | fc(8) | fc(8)", "malformed fully connected layer 'fc(8) | fc(8)'"),
    ("identity | fc(8) > fc(8) > fc(8)",
     "'identity | fc(8) > fc(8) > fc(8)' has 3 fully connected layers; this space allows 0..2 (max_fc_layers)"),
    ("| fc(8)", "malformed layer ''"),
    ("lstm(4) | fc(8)", "unknown op 'lstm'"),
])
def test_bad_head_strings_name_the_problem(text, fragment):
    with pytest.raises(InvalidArchitectureError) as info:
        head_space().from_string(text)
    assert fragment in str(info.value)


def test_a_head_in_a_space_without_one(space):
    with pytest.raises(InvalidArchitectureError, match=r"max_fc_layers=0"):
        space.from_string("conv(16,k3,s1,relu,d0.0) | fc(32)")
    a = head_space().from_string("identity | fc(8)")
    assert a not in small_space() and a not in nv.MacroSpace()
    assert a not in small_space(max_fc_layers=2, fc_units=(16, 32))  # 8 units are not offered
    assert head_space().from_string("identity") not in small_space()  # decisions of another layout


def test_head_decisions():
    sp = head_space()
    names = [d.name for d in sp.decisions]
    assert len(names) == 1 + 6 * 2 + 1 + 2
    assert names[-3:] == ["fc depth", "fc 1 units", "fc 2 units"]
    assert sp.decisions[-3].choices == (0, 1, 2) and sp.decisions[-1].choices == (8, 16)
    assert [d.name for d in small_space().decisions] == names[:-3]  # no head: the layout of today
    for arch in sp.enumerate():
        assert sp.from_decisions(arch.decisions) == arch == sp.from_json(arch.to_json())
        assert sp.to_decisions(arch) == arch.decisions
    a = sp.from_string("identity | fc(16)")
    assert a.decisions[-3:] == (1, 16, 8)  # the unused slot holds the first choice
    chain = [1, "identity", None, None, None, None, None] + [None] * 6
    # units beyond the fc depth are ignored, whatever valid choice (or None) they hold
    assert sp.from_decisions(chain + [1, 16, None]) == sp.from_decisions(chain + [1, 16, 16]) == a
    assert sp.from_decisions(chain + [1, np.int64(16)]) == a                 # short head
    assert sp.from_decisions(chain[:7] + [1, 16]) == a                       # short chain, short head
    assert sp.from_decisions(chain[:7] + [0, None, None]) == sp.from_string("identity")
    assert type(sp.from_decisions(chain + [1, np.int64(16), None]).fc[0]) is int
    # a walker choosing each decision independently always gets a member
    rng = np.random.default_rng(0)
    for _ in range(200):
        arch = sp.from_decisions([d.choices[rng.integers(len(d.choices))] for d in sp.decisions])
        assert arch in sp


@pytest.mark.parametrize("values, fragment", [
    ([1, "identity"] + [None] * 11 + [3, 8, 8], "unknown fc depth 3; accepted: 0..2"),
    ([1, "identity"] + [None] * 11 + [True, 8, 8], "unknown fc depth True"),
    ([1, "identity"] + [None] * 11 + [1, 12, 8], "unknown fc units 12 in fc layer 1; accepted: 8, 16"),
    ([1, "identity"] + [None] * 11 + [1, 8, 32], "unknown fc units 32 in fc layer 2"),
    ([1, "identity"] + [None] * 11 + [2, 8], "expected 3 head decisions (fc depth, then the units of each of 2"),
    ([1, "identity"] + [None] * 11 + [0, 8], "or 1 for fc depth 0; got 2"),
    ([1, "identity"] + [None] * 11, "expected 16 decisions"),
    ([1, "identity"] + [None] * 5, "then fc depth and the units of each of 2 fully connected layers"),
    ([3] + [None] * 15, "unknown depth 3; accepted: 1..2"),
])
def test_bad_head_decisions(values, fragment):
    with pytest.raises(InvalidArchitectureError) as info:
        head_space().from_decisions(values)
    assert fragment in str(info.value)
    assert not head_space().is_valid(tuple(values))


def test_head_encode():
    sp = head_space()
    plain = chains_only()
    base = len(plain.encode(plain.from_string("identity")))
    assert base == 2 + 2 * (3 + 1 + 2 + 2 + 1 + 1)
    v = sp.encode(sp.from_string("identity | fc(16) > fc(8)"))
    assert v.shape == (base + 3 + 2 * 2,) and v.dtype == np.float32
    assert v[base:].tolist() == [0, 0, 1, 0, 1, 1, 0]  # fc depth 2; slot 1: 16 units, slot 2: 8
    assert (v[:base] == plain.encode(plain.from_string("identity"))).all()
    assert sp.encode(sp.from_string("identity"))[base:].tolist() == [1, 0, 0, 0, 0, 0, 0]
    codes = {sp.encode(a).tobytes() for a in sp.enumerate()}
    assert len(codes) == len(sp)


def test_head_neighbors_and_mutate_stay_in_the_space():
    sp = head_space()
    a = sp.from_string("conv(4,k3,s1,relu,d0.0) | fc(8)")
    nbrs = sp.neighbors(a)
    assert len(nbrs) == len(set(nbrs)) and a not in nbrs and all(n in sp for n in nbrs)
    # the chain's moves keep the head; the head's moves (last) keep the chain
    heads = [n for n in nbrs if n.layers == a.layers]
    assert [n.fc for n in heads] == [(16,), (), (8, 8), (8, 16)] and nbrs[-4:] == heads
    assert all(n.fc == (8,) for n in nbrs if n.layers != a.layers)
    assert [n.fc for n in sp.neighbors(sp.from_string("identity | fc(16) > fc(8)")) if n.depth == 1
            and n.ops == ("identity",)] == [(8, 8), (16, 16), (16,)]
    for arch in list(sp.enumerate())[::13]:
        assert all(n in sp and n != arch for n in sp.neighbors(arch))
    kinds = Counter()
    for s in range(80):
        m = sp.mutate(a, seed=s)
        assert m in sp and m != a and m in nbrs
        kinds["head" if m.layers == a.layers else "chain"] += 1
    assert kinds["head"] > 8 and kinds["chain"] > 30  # one kind of move in four is the head's
    assert sp.mutate(a, seed=3) == sp.mutate(a, seed=3)


def test_head_build_shape_and_counts():
    torch = pytest.importorskip("torch")
    sp = nv.MacroSpace(max_fc_layers=2, fc_units=(8, 16))
    a = sp.from_string("conv(8,k3,s1,relu,d0.0) > max_pool(k3,s2) | fc(16) > fc(8)")
    net = sp.build(a)
    assert net(torch.zeros(3, 1, 8, 8)).shape == (3, 10)
    # conv 9*8 + BN 16; fc 8*16 + 16, fc 16*8 + 8; linear 8*10 + 10
    assert nv.count_params(net) == 72 + 16 + (128 + 16) + (128 + 8) + 90
    plain = sp.build(sp.from_string("conv(8,k3,s1,relu,d0.0) > max_pool(k3,s2)"))
    assert nv.count_params(plain) == 72 + 16 + 90
    # a multiply-add is 2 FLOPs: the hidden layers add 2 * (8*16 + 16*8); the classifier is 8 -> 10 in both
    assert nv.count_flops(net, (1, 8, 8)) - nv.count_flops(plain, (1, 8, 8)) == 2 * (8 * 16 + 16 * 8)
    assert [type(m).__name__ for m in net.fc] == ["Linear", "ReLU", "Linear", "ReLU"]
    assert len(plain.fc) == 0
    seen = []
    hooks = [m.register_forward_hook(lambda mod, inp, out: seen.append(tuple(out.shape[1:])))
             for m in (net.pool, net.fc[1], net.fc[3])]
    with torch.no_grad():
        net(torch.zeros(1, 1, 8, 8))
    for h in hooks:
        h.remove()
    assert [seen[0][:1]] + seen[1:] == list(a.head_shapes)
    assert sp.build(a, num_classes=3, in_channels=2)(torch.zeros(2, 2, 8, 8)).shape == (2, 3)


def test_head_networkx_and_drawing():
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    sp = nv.MacroSpace(max_fc_layers=2)
    a = sp.from_string("conv(16,k3,s2,relu,d0.0) > max_pool(k3,s2) | fc(64) > fc(32)")
    g = a.to_networkx()
    assert [g.nodes[n]["kind"] for n in g.nodes] == ["input", "layer", "layer", "pool", "fc", "fc", "head"]
    assert (g.nodes[4]["op"], g.nodes[4]["units"], g.nodes[4]["label"]) == ("fc", 64, "fc 64\nrelu")
    assert g.nodes[6]["label"] == "linear 10"
    assert [g.edges[i, i + 1]["shape"] for i in range(6)] == [
        (1, 8, 8), (16, 4, 4), (16, 2, 2), (16,), (64,), (32,)]
    ax = Figure().add_subplot()
    assert nv.draw(a, ax=ax) is ax
    titles = [t.get_text() for t in ax.texts if (t.get_gid() or "").startswith("box title ")]
    assert titles == ["input", "conv 16", "max_pool", "avg pool", "fc 64", "fc 32", "linear 10"]
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["conv", "max_pool", "fc"]
    plain = Figure().add_subplot()
    nv.draw(sp.from_string("sep_conv(8,k3,s1,relu,d0.0) | fc(64)"), ax=plain, labels=False)
    texts = {t.get_gid(): t.get_text() for t in plain.texts}
    assert texts["box title 3"] == "fc 64" and "box text 3" not in texts  # settings hidden, as for layers
    # fc has one colour in every drawing, whatever other ops are drawn
    faces = [{p.get_gid(): p.get_edgecolor() for p in x.patches}["box 4" if x is ax else "box 3"] for x in (ax, plain)]
    assert faces[0] == faces[1]


def test_head_immutable_hashable_pickle():
    sp = head_space()
    a, b = sp.from_string("identity | fc(8) > fc(16)"), sp.from_string("identity|fc(8)>fc(16)")
    assert a == b and hash(a) == hash(b) and len({a, b}) == 1
    assert a != sp.from_string("identity | fc(8)") != sp.from_string("identity")
    assert pickle.loads(pickle.dumps(a)) == a and pickle.loads(pickle.dumps(a)).fc == (8, 16)
    with pytest.raises(AttributeError):
        a.fc = ()
    again = pickle.loads(pickle.dumps(sp))
    assert again == sp and again.sample(seed=2) == sp.sample(seed=2)


def test_head_constructor_stores_arguments_and_repr():
    units = [16, 8]
    sp = nv.MacroSpace(max_layers=2, max_fc_layers=1, fc_units=units)
    assert sp.fc_units is units and sp.max_fc_layers == 1
    assert repr(sp) == "MacroSpace(max_layers=2, max_fc_layers=1, fc_units=(16, 8))"
    assert sp == nv.MacroSpace(max_layers=2, max_fc_layers=1, fc_units=(16, 8)) != nv.MacroSpace(max_layers=2)
    assert sp != nv.MacroSpace(max_layers=2, max_fc_layers=2, fc_units=(16, 8))
    assert repr(nv.MacroSpace(max_fc_layers=0)) == "MacroSpace()" == repr(nv.MacroSpace(fc_units=[32, 64]))
    assert nv.MacroSpace(max_fc_layers=4).decisions[-1].name == "fc 4 units"


@pytest.mark.parametrize("kwargs, error, fragment", [
    ({"max_fc_layers": -1}, InvalidArgumentError,
     "max_fc_layers must be an integer >= 0, got -1 (accepted: integers 0..4)"),
    ({"max_fc_layers": 5}, InvalidArgumentError, "max_fc_layers must be at most 4, got 5"),
    ({"max_fc_layers": "2"}, InvalidArgumentError, "got '2'"),
    ({"max_fc_layers": True}, InvalidArgumentError, "got True"),
    ({"max_fc_layers": 1.5}, InvalidArgumentError, "got 1.5"),
    ({"fc_units": ()}, InvalidArgumentError, "fc_units must offer at least one choice"),
    ({"fc_units": (32, 32)}, InvalidArgumentError, "fc_units must be distinct, got (32, 32)"),
    ({"fc_units": (32, 0)}, InvalidArgumentError, "each of fc_units must be an integer >= 1, got 0"),
    ({"fc_units": (32, 2.5)}, InvalidArgumentError, "got 2.5"),
    ({"fc_units": "64"}, InvalidArgumentError, "the string '64'"),
    ({"fc_units": None}, InvalidArgumentError, "got None"),
    ({"fc_units": 64}, InvalidArgumentError, "got 64"),
])
def test_bad_head_arguments(kwargs, error, fragment):
    with pytest.raises(error) as info:
        nv.MacroSpace(**kwargs)
    assert fragment in str(info.value)
    assert isinstance(info.value, NasvizError)
