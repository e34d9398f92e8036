"""A user-defined space gets sampling, moves, encoding, indexing and JSON from the protocol."""

import itertools
import json
import pathlib
import re

import networkx as nx
import numpy as np
import pytest

import nasviz as nv
from nasviz.errors import InvalidArchitectureError, InvalidArgumentError, UnknownOpError
from nasviz.spaces import Architecture, Decision, Space

DOCS = pathlib.Path(__file__).resolve().parents[1] / "docs" / "spaces.md"


class TinyArch(Architecture):
    """Two conv blocks: (kernel, channels) each, then a pooling kind."""

    __slots__ = ("_values",)

    def __init__(self, values):
        object.__setattr__(self, "_values", tuple(values))

    @property
    def decisions(self):
        return self._values

    def __str__(self):
        k1, c1, k2, c2, pool = self._values
        return f"{k1}x{k1}/{c1} {k2}x{k2}/{c2} {pool}"

    def __repr__(self):
        return f"TinyArch('{self}')"

    def to_networkx(self):
        k1, c1, k2, c2, pool = self._values
        g = nx.DiGraph()
        g.add_node(0, kind="input")
        g.add_node(1, kind="layer", kernel=k1, channels=c1)
        g.add_node(2, kind="layer", kernel=k2, channels=c2)
        g.add_node(3, kind="head", pool=pool)
        nx.add_path(g, [0, 1, 2, 3])
        return g


class TinySpace(Space):
    KERNELS = (1, 3)
    CHANNELS = (2, 4, 8)
    POOLS = ("avg", "max")

    @property
    def decisions(self):
        return [Decision("kernel 1", self.KERNELS), Decision("channels 1", self.CHANNELS),
                Decision("kernel 2", self.KERNELS), Decision("channels 2", self.CHANNELS),
                Decision("pool", self.POOLS)]

    def from_decisions(self, values):
        values = tuple(values)
        if len(values) != 5:
            raise InvalidArchitectureError(f"expected 5 decisions, got {values!r}")
        for v, d in zip(values, self.decisions):
            if v not in d.choices:
                raise UnknownOpError(f"unknown {d.name} {v!r}; accepted: {d.choices!r}")
        return TinyArch(values)

    def from_string(self, text):
        m = re.fullmatch(r"(\d+)x\1/(\d+) (\d+)x\3/(\d+) (\w+)", str(text).strip())
        if not m:
            raise InvalidArchitectureError(f"malformed tiny string {text!r}; write e.g. '3x3/4 1x1/8 max'")
        k1, c1, k2, c2, pool = m.groups()
        return self.from_decisions((int(k1), int(c1), int(k2), int(c2), pool))

    def build(self, arch, num_classes=10, in_channels=1, **kwargs):
        from torch import nn

        k1, c1, k2, c2, pool = self._check_member(arch).decisions
        return nn.Sequential(
            nn.Conv2d(in_channels, c1, k1, padding=k1 // 2), nn.ReLU(),
            nn.Conv2d(c1, c2, k2, padding=k2 // 2), nn.ReLU(),
            nn.AdaptiveAvgPool2d(1) if pool == "avg" else nn.AdaptiveMaxPool2d(1),
            nn.Flatten(), nn.Linear(c2, num_classes),
        )


class WideningSpace(TinySpace):
    """The same, but channels may not shrink: the ``_valid`` hook excludes those members."""

    def _valid(self, values):
        return values[3] >= values[1]


@pytest.fixture
def space():
    return TinySpace()


def test_len_enumerate_index(space):
    archs = list(space.enumerate())
    assert len(space) == len(archs) == len(set(archs)) == 2 * 3 * 2 * 3 * 2
    assert set(archs) == {TinyArch(v) for v in itertools.product(*(d.choices for d in space.decisions))}
    assert all(space.index(a) == i and space[i] == a for i, a in enumerate(archs))
    assert space[-1] == archs[-1] and archs[-1] in space
    with pytest.raises(InvalidArgumentError, match="72"):
        space[72]


def test_sample_is_seeded_and_covers(space):
    assert space.sample(seed=4) == space.sample(seed=4)
    seen = {space.sample(seed=s) for s in range(600)}
    assert len(seen) == len(space)


def test_mutate_and_neighbors(space):
    a = space.from_string("3x3/4 1x1/8 max")
    nbrs = space.neighbors(a)
    # one decision changes: (2-1) + (3-1) + (2-1) + (3-1) + (2-1) alternatives
    assert len(nbrs) == len(set(nbrs)) == 7 and a not in nbrs
    assert all(sum(x != y for x, y in zip(a.decisions, n.decisions)) == 1 for n in nbrs)
    for s in range(20):
        m = space.mutate(a, seed=s)
        assert m in nbrs
    assert space.mutate(a, seed=1) == space.mutate(a, seed=1)
    assert len({space.mutate(a, seed=s) for s in range(40)}) > 4


def test_encode(space):
    a = space.from_string("3x3/4 1x1/8 max")
    v = space.encode(a)
    assert v.shape == (2 + 3 + 2 + 3 + 2,) and v.sum() == 5
    assert v.tolist() == [0, 1, 0, 1, 0, 1, 0, 0, 0, 1, 0, 1]
    codes = {space.encode(x).tobytes() for x in space.enumerate()}
    assert len(codes) == len(space)


def test_strings_json_and_errors(space):
    a = space.from_string("3x3/4 1x1/8 max")
    assert str(a) == "3x3/4 1x1/8 max" and repr(a) == "TinyArch('3x3/4 1x1/8 max')"
    assert space.from_json(a.to_json()) == a
    assert json.loads(a.to_json()) == {"type": "TinyArch", "decisions": [3, 4, 1, 8, "max"]}
    assert space.canonical(a) == str(a) and space.to_decisions(a) == (3, 4, 1, 8, "max")
    with pytest.raises(AttributeError):
        a.x = 1
    with pytest.raises(InvalidArchitectureError, match="malformed"):
        space.from_string("3x3/4 max")
    with pytest.raises(UnknownOpError, match="pool"):
        space.from_decisions((3, 4, 1, 8, "min"))
    with pytest.raises(InvalidArchitectureError, match="not a member"):
        space.index(TinyArch((5, 4, 1, 8, "max")))


def test_networkx(space):
    g = space.from_string("3x3/4 1x1/8 max").to_networkx()
    assert list(g.edges) == [(0, 1), (1, 2), (2, 3)] and g.nodes[2]["channels"] == 8


def test_build(space):
    torch = pytest.importorskip("torch")
    a = space.from_string("3x3/4 1x1/8 max")
    net = space.build(a, num_classes=3, in_channels=2)
    assert net(torch.zeros(5, 2, 6, 6)).shape == (5, 3)
    assert nv.count_params(net) == (2 * 4 * 9 + 4) + (4 * 8 + 8) + (8 * 3 + 3)
    assert nv.count_flops(net, (2, 6, 6)) > 0


def test_valid_hook_excludes_members():
    wide = WideningSpace()
    archs = list(wide.enumerate())
    expected = [TinyArch(v) for v in itertools.product(*(d.choices for d in wide.decisions)) if v[3] >= v[1]]
    assert archs == expected and len(wide) == len(expected) == 2 * 2 * 2 * 6  # kernels, pool, 6 widening channel pairs
    assert all(wide.index(a) == i and wide[i] == a for i, a in enumerate(archs))
    assert all(wide.sample(seed=s).decisions[3] >= wide.sample(seed=s).decisions[1] for s in range(100))
    a = wide.from_string("3x3/4 1x1/4 avg")
    nbrs = wide.neighbors(a)
    assert nbrs and all(n.decisions[3] >= n.decisions[1] for n in nbrs)
    assert TinyArch((3, 8, 1, 2, "avg")) not in nbrs
    for s in range(20):
        assert wide.mutate(a, seed=s) in nbrs


def test_worked_example_in_docs_runs():
    """Every Python block of docs/spaces.md runs and its space behaves as the page says."""
    pytest.importorskip("torch")
    blocks = re.findall(r"```python\n(.*?)```", DOCS.read_text(), re.DOTALL)
    assert len(blocks) >= 2
    ns: dict = {}
    for block in blocks:
        exec(compile(block, str(DOCS), "exec"), ns)  # noqa: S102 - the page's own example
    mlp = ns["space"]
    assert len(mlp) == 12 == len(set(mlp.enumerate()))
    one_layer = mlp.from_string("8:relu")
    assert mlp.from_decisions((1, 8, 16, "relu")) == one_layer  # the unused width is normalised
    assert mlp.from_string(str(one_layer)) == one_layer
    assert all(mlp[mlp.index(a)] == a for a in mlp.enumerate())
    assert isinstance(mlp.encode(one_layer), np.ndarray)
