"""What every zero-cost proxy reads from a network: its weight layers, whether its output
is constant, and the same random draws for every pass (imports torch)."""

from __future__ import annotations

import contextlib

import torch
from torch import nn

__all__ = ["is_constant", "replayed_randomness", "weight_layers"]


def weight_layers(model) -> list:
    """The ``Conv2d`` and ``Linear`` layers of ``model``: whose weights the gradient proxies sum over."""
    return [m for m in model.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]


def is_constant(out) -> bool:
    """Whether the network's output is the same for every image of the minibatch."""
    out = out.detach()
    spread = float((out - out[:1]).abs().max())
    return spread <= 1e-6 * float(out.abs().max()) + 1e-30


@contextlib.contextmanager
def replayed_randomness(device):
    """Yield ``replay()``, which puts torch's generator (and the device's) back where it was on entry.

    Each pass of a network (the minibatch pass, ZiCo's two halves, MeCo's image, synflow) calls
    ``replay()`` first, so that random layers (dropout) draw the same masks whichever other
    proxies are computed with it: a proxy computed alone equals the same proxy computed with others.
    """
    cpu = torch.get_rng_state()
    cuda = torch.cuda.get_rng_state(device) if device.type == "cuda" else None

    def replay():
        torch.set_rng_state(cpu)
        if cuda is not None:
            torch.cuda.set_rng_state(cuda, device)

    yield replay
