"""Taking an architecture out of nasviz: its description, its trained weights, and an ONNX file.

:func:`export` writes a folder that needs nasviz only to rebuild the network and nothing at
all to run the ONNX file:

- ``architecture.json``: the space (as table files describe it), the architecture's string
  (for a cell, NAS-Bench-201's), its decisions, its canonical form (cells), and the keyword
  arguments of ``space.build`` that make the network;
- ``weights.pt``: the trained network's ``state_dict`` (tensors only:
  ``torch.load(path, weights_only=True)`` reads it, and ``space.build(arch, **build)`` takes
  it with ``load_state_dict``);
- ``model.onnx``: the network in evaluation mode, for an input of ``input_shape`` (batch size
  free), when the ``onnx`` package is installed (``pip install onnx``).

:func:`load_export` reads the folder back: the architecture and the network with its weights.

Examples
--------
>>> import tempfile, torch, nasviz as nv
>>> space = nv.CellSpace()
>>> arch = space.sample(seed=0)
>>> _ = torch.manual_seed(0)
>>> net = space.build(arch, num_classes=10, in_channels=1, channels=4).eval()
>>> folder = tempfile.mkdtemp()
>>> sorted(export(arch, folder, model=net, num_classes=10, in_channels=1, channels=4, onnx=False))
['architecture', 'weights']
>>> again, rebuilt = load_export(folder)
>>> again == arch, torch.equal(rebuilt(torch.ones(1, 1, 8, 8)), net(torch.ones(1, 1, 8, 8)))
(True, True)
"""

from __future__ import annotations

import json
from pathlib import Path

from .errors import InvalidArgumentError, InvalidFileError

__all__ = ["FORMAT", "export", "load_export"]

#: What ``architecture.json`` holds under ``"format"`` (and :func:`load_export` checks).
FORMAT = "nasviz.export"
_VERSION = 1
_FILES = {"architecture": "architecture.json", "weights": "weights.pt", "onnx": "model.onnx"}


def _onnx_installed() -> bool:
    try:
        import onnx  # noqa: F401
    except ImportError:
        return False
    return True


def export(arch, path, *, model=None, space=None, onnx="auto", input_shape=None, **build) -> dict:
    """Write ``arch`` (and ``model``'s weights, and an ONNX file) to the folder ``path``.

    Parameters
    ----------
    arch : Architecture or str
        The architecture (a member of ``space``).
    path : str or os.PathLike
        A folder, made if missing; files of an earlier export there are replaced.
    model : torch.nn.Module, optional
        The trained network, ``space.build(arch, **build)`` (e.g. from
        :meth:`Training.train_network <nasviz.estimators.Training.train_network>`). Without
        it only ``architecture.json`` is written.
    space : Space, optional
        The space of ``arch``; default ``nv.CellSpace()`` for a cell or a cell string (a layer
        chain needs its ``MacroSpace`` given).
    onnx : {"auto", True, False}
        ``"auto"``: write ``model.onnx`` when ``model`` and ``input_shape`` are given and the
        ``onnx`` package is installed; True: the same, but a missing package or input shape
        is an error; False: never.
    input_shape : tuple of int, optional
        ``(channels, height, width)`` of one input, for the ONNX file.
    **build
        The keyword arguments of ``space.build`` that made ``model`` (``num_classes``,
        ``in_channels``, ``channels``, ...), recorded so :func:`load_export` can rebuild it;
        ``model``'s weights must fit that network exactly.

    Returns
    -------
    dict
        ``{"architecture": Path, "weights": Path, "onnx": Path}``, the files written.
    """
    from .bench.files import space_spec

    if onnx not in ("auto", True, False):
        raise InvalidArgumentError(f"onnx must be 'auto', True or False, got {onnx!r}")
    space = _space_of(arch, space)
    arch = space.validate(arch)
    spec = space_spec(space)
    folder = Path(path)
    if folder.exists() and not folder.is_dir():
        raise InvalidArgumentError(f"export writes a folder, and {str(folder)!r} is a file: choose another path")
    header = {"format": FORMAT, "version": _VERSION, "space": spec, "arch": str(arch),
              "decisions": [_plain(d) for d in space.to_decisions(arch)], "build": build}
    if hasattr(space, "canonical"):
        header["canonical"] = str(space.canonical(arch))
    network = None
    if model is not None:
        network = _checked_network(space, arch, model, build)
    elif build:
        raise InvalidArgumentError("build arguments describe a trained network: pass model= with them, or "
                                   "leave them out to export the architecture alone")
    try:
        json.dumps(header)
    except TypeError as err:
        raise InvalidArgumentError(f"the build arguments must be plain numbers and strings, got {build!r} ({err})") \
            from None
    wants_onnx = onnx is True or (onnx == "auto" and model is not None and input_shape is not None
                                  and _onnx_installed())
    if onnx is True and (model is None or input_shape is None):
        raise InvalidArgumentError("onnx=True needs model= and input_shape=(channels, height, width)")
    if wants_onnx and not _onnx_installed():
        raise InvalidArgumentError("writing ONNX needs the onnx package: pip install onnx (or pass onnx='auto')")
    folder.mkdir(parents=True, exist_ok=True)
    written = {}
    target = folder / _FILES["architecture"]
    target.write_text(json.dumps(header, indent=2) + "\n")
    written["architecture"] = target
    if network is not None:
        import torch

        target = folder / _FILES["weights"]
        torch.save({k: v.detach().cpu() for k, v in model.state_dict().items()}, target)
        written["weights"] = target
        if wants_onnx:
            written["onnx"] = _write_onnx(model, input_shape, folder / _FILES["onnx"])
    return written


def load_export(path):
    """``(arch, network)`` from a folder :func:`export` wrote: the network (``space.build(arch, **build)`` with
    the exported weights, in evaluation mode), or None when only the architecture was exported."""
    folder = Path(path)
    target = folder / _FILES["architecture"]
    try:
        header = json.loads(target.read_text())
    except FileNotFoundError:
        raise InvalidFileError(f"{str(folder)!r} holds no {_FILES['architecture']}: not a folder nv.export "
                               "wrote") from None
    except (OSError, ValueError) as err:
        raise InvalidFileError(f"cannot read {str(target)!r}: {err}") from None
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        raise InvalidFileError(f"{str(target)!r} is not an export of nasviz (format {FORMAT!r})")
    if header.get("version") != _VERSION:
        raise InvalidFileError(f"{str(target)!r} has export version {header.get('version')!r}; this nasviz reads "
                               f"version {_VERSION}")
    from .bench.files import space_from_spec

    space = space_from_spec(header["space"])
    arch = space.from_string(header["arch"])
    weights = folder / _FILES["weights"]
    if not weights.is_file():
        return arch, None
    import torch

    net = space.build(arch, **header["build"])
    try:
        state = torch.load(weights, weights_only=True)
        net.load_state_dict(state)
    except Exception as err:  # noqa: BLE001 - a damaged or foreign file: say which
        raise InvalidFileError(f"cannot load {str(weights)!r} into {str(arch)!r}: {type(err).__name__}: {err}") \
            from None
    return arch, net.eval()


def _space_of(arch, space):
    if space is not None:
        return space
    from .spaces import CellSpace, MacroArchitecture

    if isinstance(arch, MacroArchitecture):
        raise InvalidArgumentError("a layer chain is exported with its space: pass space=nv.MacroSpace(...), the "
                                   "space it was drawn from")
    return CellSpace()


def _checked_network(space, arch, model, build):
    """``space.build(arch, **build)`` on the meta device, checked to take ``model``'s state dict exactly."""
    import torch

    if not isinstance(model, torch.nn.Module):
        raise InvalidArgumentError(f"model must be a torch.nn.Module (space.build(arch, ...)), got "
                                   f"{type(model).__name__}")
    try:
        with torch.device("meta"):
            net = space.build(arch, **build)
    except TypeError as err:
        raise InvalidArgumentError(f"space.build does not take {build!r}: {err}") from None
    theirs, ours = model.state_dict(), net.state_dict()
    bad = sorted(set(theirs) ^ set(ours)) + sorted(k for k in set(theirs) & set(ours)
                                                    if theirs[k].shape != ours[k].shape)
    if bad:
        raise InvalidArgumentError(
            f"model is not space.build({str(arch)!r}, **{build!r}): {len(bad)} tensors differ (e.g. {bad[0]!r}); "
            "pass the build arguments that made it (num_classes=, in_channels=, channels=, ...)")
    return net


def _write_onnx(model, input_shape, target: Path) -> Path:
    import torch

    try:
        shape = tuple(int(v) for v in input_shape)
    except (TypeError, ValueError):
        shape = ()
    if len(shape) != 3 or min(shape) < 1:
        raise InvalidArgumentError(f"input_shape must be (channels, height, width), got {input_shape!r}")
    was_training = model.training
    model.eval()
    param = next(model.parameters(), None)
    device = param.device if param is not None else "cpu"
    try:
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the TorchScript exporter announces its successor
            torch.onnx.export(model, (torch.zeros(1, *shape, device=device),), str(target), dynamo=False,
                              input_names=["images"], output_names=["logits"],
                              dynamic_axes={"images": {0: "batch"}, "logits": {0: "batch"}})
    finally:
        model.train(was_training)
    return target


def _plain(value):
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if hasattr(value, "item"):
        return value.item()
    return value
