"""Headless tests of the widgets: build them, set values, click buttons, wait, check."""

import base64
import collections
import subprocess
import sys

import numpy as np
import pytest

import nasviz as nv

EXAMPLE = "|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|"


@pytest.fixture(scope="module")
def bench():
    return nv.bench.load("nb201-12epoch")


def png_of(output):
    """The PNG bytes an Output widget shows (exactly one image)."""
    assert len(output.outputs) == 1
    data = output.outputs[0]["data"]
    assert "image/png" in data
    png = base64.b64decode(data["image/png"])
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    return png


def test_importing_nasviz_leaves_ipywidgets_alone():
    code = "import sys, nasviz as nv; nv.bench; nv.draw; print('ipywidgets' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"


# -- SpaceExplorer ------------------------------------------------------------------------

def test_space_explorer_dropdowns_drive_the_cell(bench):
    ex = nv.widgets.SpaceExplorer(nv.CellSpace(), benchmarks=[bench], seed=0)
    assert len(ex.dropdowns) == 6 and [d.description for d in ex.dropdowns][0] == "edge 0->1"
    before = png_of(ex.drawing)
    ops = list(ex.arch.ops)
    new_op = "nor_conv_3x3" if ops[5] != "nor_conv_3x3" else "skip_connect"
    ex.dropdowns[5].value = new_op
    ops[5] = new_op
    assert ex.arch.ops == tuple(ops)
    assert ex.text.value == str(ex.arch)
    assert png_of(ex.drawing) != before
    stats = ex.stats()
    assert stats["benchmarks"]["nb201-12epoch"]["cifar10_val_acc"] == (
        bench.query(ex.arch, "cifar10_val_acc"), bench.percentile(ex.arch, "cifar10_val_acc"))
    model = nv.CellSpace().build(ex.arch)
    assert stats["params"] == nv.count_params(model)
    assert f"{stats['params']:,}" in ex.info.value
    assert f"{bench.percentile(ex.arch, 'cifar10_val_acc'):.1f}" in ex.info.value
    assert "SpaceExplorer(" in repr(ex) and str(ex.arch) in repr(ex)


def test_space_explorer_twins_and_text(bench):
    space = nv.CellSpace()
    ex = nv.widgets.SpaceExplorer(space, benchmarks=["nb201-12epoch"], seed=0)
    ex.text.value = EXAMPLE
    assert str(ex.arch) == EXAMPLE
    assert [d.value for d in ex.dropdowns] == list(ex.arch.ops)
    canon = space.canonical(ex.arch)
    expected = sum(space.canonical(a) == canon for a in space.enumerate())
    assert ex.stats()["canonical"] == canon and ex.stats()["class_size"] == expected
    assert f"class of {expected:,}" in ex.info.value
    # bad input: a message in the widget, the cell unchanged, and the widget still works
    ex.text.value = "|conv~0|+|none~0|none~1|+|none~0|none~1|none~2|"
    assert "unknown op 'conv'" in ex.message.value and "Traceback" not in ex.message.value
    assert str(ex.arch) == EXAMPLE
    ex.dropdowns[0].value = "none"
    assert ex.message.value == "" and ex.arch.ops[0] == "none"
    with pytest.raises(nv.errors.NasvizError):
        ex.set_arch("not a cell")


def test_space_explorer_random_and_mutate_are_seeded():
    a = nv.widgets.SpaceExplorer(seed=7)
    b = nv.widgets.SpaceExplorer(seed=7)
    assert a.arch == b.arch
    a.random_button.click()
    b.random_button.click()
    assert a.arch == b.arch
    start = a.arch
    a.mutate_button.click()
    assert a.previous_ == start
    assert sum(x != y for x, y in zip(start.ops, a.arch.ops)) == 1
    assert [d.value for d in a.dropdowns] == list(a.arch.ops)
    png_of(a.drawing)


def test_space_explorer_macro_space_greys_out_unused_settings():
    space = nv.MacroSpace(max_layers=3)
    ex = nv.widgets.SpaceExplorer(space, seed=0)
    assert len(ex.dropdowns) == 1 + 6 * 3
    ex.dropdowns[0].value = 1
    assert ex.arch.depth == 1
    assert all(d.disabled for d in ex.dropdowns[7:])  # layers 2 and 3 are not used
    ex.dropdowns[1].value = "identity"
    assert str(ex.arch) == "identity"
    assert all(d.disabled for d in ex.dropdowns[2:7])  # identity has no settings
    ex.dropdowns[1].value = "max_pool"
    assert ex.arch.layers[0].op == "max_pool"
    assert not ex.dropdowns[3].disabled and ex.dropdowns[2].disabled  # kernel matters, filters do not
    ex.mutate_button.click()
    assert ex.message.value == ""
    assert ex.arch in space and ex.stats()["class_size"] is None
