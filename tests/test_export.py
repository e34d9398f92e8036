"""nv.export / nasviz export: architecture, weights and ONNX, read back and run."""

import json

import numpy as np
import pytest
import torch

import nasviz as nv
from nasviz.cli import main
from nasviz.errors import NasvizError

CELL = "|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|"


@pytest.fixture(scope="module")
def trained():
    torch.set_num_threads(1)
    data = nv.data.digits(resolution=4, subset=0.25)
    est = nv.estimators.Training(data, epochs=1, channels=4, seed=3)
    arch = nv.CellSpace().from_string(CELL)
    net, result = est.train_network(arch)
    return data, est, arch, net, result


def test_train_network_gives_the_trained_network_of_evaluate(trained):
    data, est, arch, net, result = trained
    assert not net.training and result.ok
    assert result.score == est.evaluate(arch).score  # the same training as evaluate
    with torch.no_grad():
        hits = int((net(data.X_val).argmax(1) == data.y_val).sum())
    assert hits == round(result.score * len(data.y_val))  # the very network that was scored


def test_round_trip_of_a_trained_cell(trained, tmp_path):
    data, est, arch, net, result = trained
    written = nv.export(arch, tmp_path / "best", model=net, num_classes=10, in_channels=1, channels=4,
                        input_shape=(1, 4, 4))
    assert set(written) == {"architecture", "weights", "onnx"}
    header = json.loads(written["architecture"].read_text())
    assert header["arch"] == CELL and header["space"]["type"] == "CellSpace"
    assert header["canonical"] == str(nv.CellSpace().canonical(arch))
    assert header["build"] == {"num_classes": 10, "in_channels": 1, "channels": 4}
    # the weights load with weights_only into the network space.build makes, as a user would
    state = torch.load(written["weights"], weights_only=True)
    fresh = nv.CellSpace().build(arch, **header["build"])
    fresh.load_state_dict(state)
    again, rebuilt = nv.load_export(tmp_path / "best")
    assert again == arch
    x = data.X_test[:32]
    with torch.no_grad():
        want = net(x)
        assert torch.equal(rebuilt(x), want) and torch.equal(fresh.eval()(x), want)
    # the ONNX file runs outside torch and gives the same logits
    onnxruntime = pytest.importorskip("onnxruntime")
    session = onnxruntime.InferenceSession(str(written["onnx"]), providers=["CPUExecutionProvider"])
    (logits,) = session.run(None, {"images": x.numpy()})
    assert logits.shape == (32, 10)
    assert np.allclose(logits, want.numpy(), atol=1e-4)


def test_architecture_alone_and_a_layer_chain(tmp_path):
    space = nv.MacroSpace(max_layers=2)
    arch = space.sample(seed=1)
    with pytest.raises(NasvizError, match="space="):
        nv.export(arch, tmp_path / "chain")
    written = nv.export(arch, tmp_path / "chain", space=space)
    assert set(written) == {"architecture"}
    again, net = nv.load_export(tmp_path / "chain")
    assert again == arch and net is None


def test_bad_exports_are_refused(trained, tmp_path):
    _, _, arch, net, _ = trained
    with pytest.raises(NasvizError, match="77 tensors differ.*pass the build arguments"):  # built with 4 channels
        nv.export(arch, tmp_path / "x", model=net, num_classes=10, in_channels=1, channels=8)
    with pytest.raises(NasvizError, match="pass model="):
        nv.export(arch, tmp_path / "x", channels=4)
    with pytest.raises(NasvizError, match="'auto', True or False"):
        nv.export(arch, tmp_path / "x", onnx="yes")
    with pytest.raises(NasvizError, match="input_shape"):
        nv.export(arch, tmp_path / "x", model=net, onnx=True, num_classes=10, in_channels=1, channels=4)
    (tmp_path / "file").write_text("not a folder")
    with pytest.raises(NasvizError, match="is a file"):
        nv.export(arch, tmp_path / "file")
    with pytest.raises(NasvizError, match="holds no architecture.json"):
        nv.load_export(tmp_path)
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "architecture.json").write_text('{"format": "other"}')
    with pytest.raises(NasvizError, match="not an export of nasviz"):
        nv.load_export(tmp_path / "bad")


def test_cli_export_trains_with_the_recipe_and_writes_the_folder(tmp_path, capsys):
    out = tmp_path / "exported"
    assert main(["export", CELL, "--benchmark", "digits201", "--epochs", "1", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "trained: validation accuracy" in printed and f"weights: {out / 'weights.pt'}" in printed
    arch, net = nv.load_export(out)
    recipe = nv.bench.recipe("digits201")
    assert arch == nv.CellSpace().from_string(CELL)
    assert net.stem[0].out_channels == recipe.channels
    assert main(["export", CELL, "--benchmark", "nb201-12epoch", "--out", str(out)]) == 1
    assert "has no recipe" in capsys.readouterr().err
    assert main(["export", "|bogus~0|", "--out", str(out)]) == 1
