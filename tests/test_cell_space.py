import json

import networkx as nx
import numpy as np
import pytest

import nasviz as nv
from nasviz.errors import InvalidArchitectureError, NasvizError, UnknownOpError

EXAMPLE = "|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|"


@pytest.fixture(scope="module")
def space():
    return nv.CellSpace()


def test_size_and_enumeration(space):
    archs = list(space.enumerate())
    assert len(space) == len(archs) == 15625
    assert len(set(archs)) == 15625
    assert all(space.index(a) == i for i, a in enumerate(archs[:200]))
    assert space[space.index(archs[9999])] == archs[9999]
    assert space[-1] == archs[-1]


def test_string_round_trip(space):
    a = space.from_string(EXAMPLE)
    assert str(a) == EXAMPLE
    assert a.ops == ("nor_conv_3x3", "nor_conv_3x3", "avg_pool_3x3", "skip_connect", "nor_conv_3x3", "skip_connect")
    assert a.edge_op(1, 2) == "avg_pool_3x3"
    for arch in list(space.enumerate())[::997]:
        assert space.from_string(str(arch)) == arch


def test_immutable_hashable_equal(space):
    a, b = space.from_string(EXAMPLE), space.from_string(EXAMPLE)
    assert a == b and hash(a) == hash(b) and a is not b
    assert len({a, b}) == 1
    with pytest.raises(AttributeError):
        a.ops = ("none",) * 6
    assert a != space.mutate(a, seed=0)


def test_json_round_trip(space):
    a = space.sample(seed=3)
    text = a.to_json()
    assert json.loads(text)["decisions"] == list(a.ops)
    assert space.from_json(text) == a
    with pytest.raises(InvalidArchitectureError, match="not an architecture JSON"):
        space.from_json("{oops")


def test_pickle_round_trip(space):
    import pickle

    a = space.sample(seed=4)
    assert pickle.loads(pickle.dumps(a)) == a


def test_networkx(space):
    g = space.from_string(EXAMPLE).to_networkx()
    assert isinstance(g, nx.DiGraph)
    assert sorted(g.nodes) == [0, 1, 2, 3]
    assert g.edges[1, 2]["op"] == "avg_pool_3x3"
    assert g.number_of_edges() == 6
    assert g.nodes[0]["role"] == "input" and g.nodes[3]["role"] == "output"


def test_sample_is_seeded(space):
    assert space.sample(seed=1) == space.sample(seed=1)
    samples = {space.sample(seed=s) for s in range(50)}
    assert len(samples) > 45
    rng = np.random.default_rng(0)
    assert space.sample(seed=rng) != space.sample(seed=rng)


def test_mutate_changes_exactly_one_edge(space):
    a = space.sample(seed=0)
    for s in range(30):
        m = space.mutate(a, seed=s)
        assert sum(x != y for x, y in zip(a.ops, m.ops)) == 1
    assert space.mutate(a, seed=5) == space.mutate(a, seed=5)


def test_neighbors(space):
    a = space.from_string(EXAMPLE)
    nbrs = space.neighbors(a)
    assert len(nbrs) == 6 * 4 == len(set(nbrs))
    assert all(sum(x != y for x, y in zip(a.ops, n.ops)) == 1 for n in nbrs)


def test_encode(space):
    a = space.from_string(EXAMPLE)
    onehot = space.encode(a)
    assert onehot.shape == (30,) and onehot.sum() == 6
    assert onehot[3] == 1  # edge 0 is nor_conv_3x3 (op index 3)
    path = space.encode(a, kind="path")
    assert path.shape == (4 + 16 + 64,)
    # path 0->3 is skip_connect: first block, op index 0 among non-none ops
    assert path[0] == 1
    # two cells routing the same op sequences on different intermediate nodes share a path encoding
    x = space.from_string("|nor_conv_3x3~0|+|none~0|none~1|+|none~0|nor_conv_1x1~1|none~2|")
    y = space.from_string("|none~0|+|nor_conv_3x3~0|none~1|+|none~0|none~1|nor_conv_1x1~2|")
    assert not np.array_equal(space.encode(x), space.encode(y))
    assert np.array_equal(space.encode(x, kind="path"), space.encode(y, kind="path"))
    with pytest.raises(NasvizError, match="'onehot', 'path'"):
        space.encode(a, kind="adjacency")


def test_canonical_count_matches_nas_bench_201(space):
    classes = {space.canonical(a) for a in space.enumerate()}
    assert len(classes) == 6466


def test_canonical_without_zero_terms(space):
    """Dropping the zero terms merges NAS-Bench-201's classes into 5,390 (DESIGN.md), never splits one."""
    keep, drop = {}, {}
    for a in space.enumerate():
        keep.setdefault(space.canonical(a), set()).add(space.canonical(a, zeros="drop"))
        drop.setdefault(space.canonical(a, zeros="drop"), 0)
    assert len(drop) == 5390 and all(len(v) == 1 for v in keep.values())
    a = space.from_string("|nor_conv_3x3~0|+|none~0|skip_connect~1|+|none~0|none~1|skip_connect~2|")
    assert space.canonical(a, zeros="drop") == "(0)@nor_conv_3x3"
    dead = space.from_string("|none~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|none~0|none~1|nor_conv_3x3~2|")
    assert space.canonical(dead, zeros="drop") == "((0)@nor_conv_3x3)@nor_conv_3x3"  # the conv of node 1 (zero) drops
    assert space.canonical(dead) == "#+#+(#+(0)@nor_conv_3x3)@nor_conv_3x3"
    assert space.canonical(space.from_ops(["none"] * 6), zeros="drop") == "#"
    with pytest.raises(NasvizError, match="'keep', 'drop'"):
        space.canonical(a, zeros="no")


def test_canonical_semantics(space):
    a = space.from_string("|nor_conv_3x3~0|+|none~0|skip_connect~1|+|none~0|none~1|skip_connect~2|")
    # skip_connect passes its input on; zero terms are kept, as in NAS-Bench-201
    assert space.canonical(a) == "#+#+#+(0)@nor_conv_3x3"
    b = space.from_string("|nor_conv_3x3~0|+|none~0|none~1|+|none~0|skip_connect~1|none~2|")
    assert space.canonical(b) == "#+#+(0)@nor_conv_3x3" != space.canonical(a)
    # a conv on a skip of the input is the conv on the input
    f = space.from_string("|skip_connect~0|+|none~0|none~1|+|none~0|nor_conv_3x3~1|none~2|")
    g = space.from_string("|none~0|+|none~0|none~1|+|nor_conv_3x3~0|none~1|none~2|")
    assert space.canonical(f) == space.canonical(g)
    # the sum at a node is unordered
    c = space.from_string("|nor_conv_3x3~0|+|none~0|none~1|+|nor_conv_1x1~0|skip_connect~1|none~2|")
    d = space.from_string("|nor_conv_1x1~0|+|none~0|none~1|+|nor_conv_3x3~0|skip_connect~1|none~2|")
    assert c != d and space.canonical(c) == space.canonical(d)
    # a different op is a different function
    e = space.from_string("|avg_pool_3x3~0|+|none~0|skip_connect~1|+|none~0|none~1|skip_connect~2|")
    assert space.canonical(e) != space.canonical(a)


def test_disconnected(space):
    dead = space.from_string("|nor_conv_3x3~0|+|none~0|none~1|+|none~0|none~1|skip_connect~2|")
    assert space.is_disconnected(dead) and not space.is_connected(dead)
    assert space.is_connected(space.from_string(EXAMPLE))
    n_dead = sum(space.is_disconnected(a) for a in space.enumerate())
    # zero everywhere into node 3, or only through dead intermediate nodes
    assert 0 < n_dead < 15625


@pytest.mark.parametrize(
    "text, error, fragment",
    [
        ("|conv~0|+|none~0|none~1|+|none~0|none~1|none~2|", UnknownOpError, "'conv'"),
        ("|none~0|+|none~0|none~1|", InvalidArchitectureError, "expected 3 node groups"),
        ("|none~1|+|none~0|none~1|+|none~0|none~1|none~2|", InvalidArchitectureError, "'op~0'"),
        ("none~0|+|none~0|none~1|+|none~0|none~1|none~2|", InvalidArchitectureError, "must look like"),
        ("|none~0|+|none~0|+|none~0|none~1|none~2|", InvalidArchitectureError, "needs 2 inputs"),
    ],
)
def test_bad_strings_name_the_problem(space, text, error, fragment):
    with pytest.raises(error, match=fragment) as info:
        space.from_string(text)
    assert isinstance(info.value, ValueError)


def test_unknown_op_lists_accepted(space):
    with pytest.raises(UnknownOpError, match="nor_conv_3x3"):
        space.from_decisions(["conv5"] + ["none"] * 5)
    with pytest.raises(InvalidArchitectureError, match="expected 6 ops"):
        space.from_decisions(["none"] * 5)


def test_index_out_of_range(space):
    with pytest.raises(NasvizError, match="15625"):
        space[15625]


def test_custom_cell_space():
    small = nv.CellSpace(ops=("none", "skip_connect", "nor_conv_3x3"), nodes=3)
    assert len(small) == 27 and len(small.decisions) == 3
    a = small.sample(seed=0)
    assert small.from_string(str(a)) == a
    assert a not in nv.CellSpace()
    with pytest.raises(nv.errors.InvalidArgumentError, match="nodes"):
        nv.CellSpace(nodes=1)


def test_build_and_count(space):
    torch = pytest.importorskip("torch")
    a = space.from_string(EXAMPLE)
    net = space.build(a, num_classes=10, in_channels=1, channels=8)
    assert net(torch.randn(3, 1, 8, 8)).shape == (3, 10)
    params = nv.count_params(net)
    assert params == sum(p.numel() for p in net.parameters())
    flops = nv.count_flops(net, (1, 8, 8))
    assert flops > 0
    # a cell of convolutions costs more than a cell of skips and zeros
    cheap = space.build(space.from_string("|skip_connect~0|+|none~0|none~1|+|none~0|none~1|skip_connect~2|"), channels=8)
    assert nv.count_params(cheap) < params and nv.count_flops(cheap, (1, 8, 8)) < flops
    wide = space.build(a, channels=16, cells_per_stage=2)
    assert nv.count_params(wide) > params
    with pytest.raises(nv.errors.ShapeError, match="input_shape"):
        nv.count_flops(net, (8, 8, -1))


def test_import_is_light():
    import subprocess
    import sys

    code = "import sys, nasviz as nv; nv.CellSpace().sample(seed=0); print(sorted(m for m in ('torch','matplotlib','ipywidgets') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
