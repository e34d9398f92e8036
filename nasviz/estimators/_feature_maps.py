"""``meco``: the smallest eigenvalue of each layer's channel correlation, for one image (imports torch).

Jiang et al., "MeCo: Zero-Shot NAS with One Data and Single Forward Pass via Minimum
Eigenvalue of Correlation", NeurIPS 2023, and their reference code (``correlation/
NAS_Bench_201.py``): one image goes through the network (training mode, a batch of one);
for every layer's output feature map of that image, the C x C Pearson correlation matrix of
its channels over the spatial positions; its smallest eigenvalue; the sum over layers.

Conventions, checked against the reference and chosen where it leaves a choice:

- *which layers*: every leaf module (a module without submodules: convolution, batch
  normalisation, activation, pooling, identity) whose output has channels and at least two
  spatial positions. The reference hooks every module, so a container (a ReLU-conv-BN
  ``Sequential``, a cell, the network) counts the map of its last layer again; nasviz counts
  each layer once, so that the score does not depend on how the network's code nests its
  layers. Outputs without spatial positions (the classifier's logits, globally pooled
  features) give the reference a NaN correlation set to 0, an eigenvalue of 0: leaving them
  out is the same sum.
- *the image*: the first image of the estimator's minibatch. Where batch normalisation cannot
  normalise a batch of one (1 x 1 maps), the minibatch goes through instead and its first
  image's maps are read.
- *constant channels* (zero variance over the positions): NaN correlations, set to 0 as in the
  reference, so that such a layer adds 0. A correlation matrix is positive semi-definite, so
  tiny negative eigenvalues from rounding are set to 0: every layer adds >= 0, and 0 is the floor.
- MeCo_opt, the reference's faster variant, samples 8 channels per layer and scales by C / 8;
  it is not offered: the networks here have 4 to 64 channels, whose eigenvalues are cheap.

A layer with fewer positions than channels has a singular correlation (its smallest
eigenvalue is 0): on 8 x 8 digits, the last stage's 2 x 2 maps add nothing, as NAS-Bench-201's
8 x 8 maps with 64 channels add nothing in the reference.
"""

from __future__ import annotations

import torch

__all__ = ["meco", "min_eigenvalue_sum"]


def meco(model, inputs, replay) -> tuple[float, bool]:
    """MeCo of ``model`` on ``inputs[0]``: (value, degenerate).

    Degenerate (value 0, the floor) when the output does not depend on the image at all: the
    parameters are frozen for the pass and the image tracks gradients, so the output tracks
    them only if the image reaches it (no backward pass is run).
    """
    maps: list = []

    def keep(module, inp, out):
        if isinstance(out, torch.Tensor) and out.dim() >= 3 and out[0, 0].numel() >= 2:
            maps.append(out[0].detach().reshape(out.shape[1], -1).to(torch.float64, copy=True))

    leaves = [m for m in model.modules() if next(m.children(), None) is None]
    trainable = [p for p in model.parameters() if p.requires_grad]
    handles = [m.register_forward_hook(keep) for m in leaves]
    try:
        for p in trainable:
            p.requires_grad_(False)
        replay()
        try:
            out = model(inputs[:1].detach().clone().requires_grad_(True))
        except ValueError:  # batch normalisation of 1 x 1 maps needs more than one image
            maps.clear()
            replay()
            out = model(inputs.detach().clone().requires_grad_(True))
    finally:
        for h in handles:
            h.remove()
        for p in trainable:
            p.requires_grad_(True)
    if not out.requires_grad:
        return 0.0, True
    value = min_eigenvalue_sum(maps)
    return value, value == 0.0


def min_eigenvalue_sum(maps) -> float:
    """Sum over the (channels x positions) maps of the smallest eigenvalue of their channel correlation."""
    groups: dict = {}
    for m in maps:
        groups.setdefault(tuple(m.shape), []).append(m)
    total = 0.0
    for (channels, _), same in groups.items():
        raw = torch.stack(same).cpu()  # (layers, channels, positions)
        flat = (raw.amax(dim=2) - raw.amin(dim=2)) <= 1e-6 * raw.abs().amax(dim=2)
        centred = raw - raw.mean(dim=2, keepdim=True)
        norms = centred.norm(dim=2, keepdim=True)
        z = torch.where(flat[..., None], torch.zeros_like(centred), centred / norms.clamp_min(1e-300))
        corr = z @ z.transpose(1, 2)
        smallest = torch.linalg.eigvalsh(corr)[:, 0] if channels > 1 else corr[:, 0, 0]
        total += float(smallest.clamp_min(0.0).sum())
    return total
