"""Zero-cost proxies computed on one ``torch.nn.Module`` at initialisation.

Imported only when a zero-cost estimator is used (it imports torch). The
definitions follow Abdelfattah et al., "Zero-Cost Proxies for Lightweight NAS"
(ICLR 2021) and their reference code, and each later proxy's own reference code:
the network is in training mode (batch normalisation uses the minibatch's
statistics), the loss is cross-entropy, and per-weight scores are summed over the
weights of every ``Conv2d`` and ``Linear`` layer. Each proxy's computation lives in
a module named after what it reads: ``_activation_codes`` (naswot, swap),
``_jacobian`` (jacob_cov), ``_gradients`` (snip, grad_norm, fisher, grasp, zico),
``_feature_maps`` (meco), ``_synflow``.

**Shared passes.** Several proxies requested together share what they can: naswot,
swap, jacob_cov, snip, grad_norm, fisher and grasp share one forward pass of the
minibatch (and one backward pass of its loss); meco needs one image's forward pass
(a batch of one, as its reference), zico two half-minibatch passes (per-minibatch
gradients: the halves' batch statistics differ from the whole minibatch's), and
``synflow`` its own pass (absolute weights, no batch normalisation, all-ones input),
last, because it changes the network in place. Before each pass the random
generators are put back where they were, so that random layers (dropout) draw the
same whichever proxies are computed together.

**Degenerate networks.** A network whose output does not depend on its input (for
example a cell whose input never reaches its output: its output is the same for
every image) is *degenerate*. Several proxies are zero or undefined for it, and
``naswot`` would still reward the activations of branches that lead nowhere. Every
minibatch proxy therefore gives it its *floor*, the lowest value the proxy can
take, and flags it: 0 for ``snip``, ``grad_norm`` and ``fisher`` (sums of absolute
values or squares); 0 for ``naswot`` (a non-singular kernel is an integer matrix
with determinant >= 1, so every other score is >= 0; a singular kernel, whose
log-determinant is minus infinity, gets 0 too); :func:`jacob_cov_floor` for
``jacob_cov`` (all Jacobians perfectly correlated, its worst case; constant
Jacobians have no correlation); 0 for ``swap`` (a network with an activation has at
least one pattern), ``meco`` (a sum of eigenvalues of correlation matrices, each
>= 0) and ``zico`` (with two halves every term is >= 0). ``grasp`` is flagged but
keeps its computed value: it may be negative, so it has no floor. The data-free
``synflow`` is flagged when its flow is exactly zero, which is its floor.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from ._activation_codes import ACTIVATIONS, codes_kernel, naswot_score, swap_count
from ._feature_maps import meco
from ._gradients import gradient_scores, zico
from ._jacobian import jacob_cov_floor, jacob_cov_score
from ._network import is_constant, replayed_randomness, weight_layers
from ._synflow import synflow

__all__ = ["BATCH_PROXIES", "LOSS_PROXIES", "NETWORK_PROXIES", "SHARED_PASS", "compute", "floor", "jacob_cov_floor"]

#: every proxy of one network (the population proxies of ``_ranking`` are built on them)
NETWORK_PROXIES = ("synflow", "naswot", "jacob_cov", "snip", "grad_norm", "fisher", "grasp", "params", "flops",
                   "meco", "zico", "swap")
#: proxies that need the minibatch (the others are data-free)
BATCH_PROXIES = ("naswot", "jacob_cov", "snip", "grad_norm", "fisher", "grasp", "swap", "meco", "zico")
#: proxies that share one forward pass of the minibatch
SHARED_PASS = ("naswot", "jacob_cov", "snip", "grad_norm", "fisher", "grasp", "swap")
#: proxies that need the loss gradient of that pass
LOSS_PROXIES = ("snip", "grad_norm", "fisher", "grasp")

_ZERO_FLOOR = ("naswot", "snip", "grad_norm", "fisher", "swap", "meco", "zico", "synflow")


def floor(name: str, n: int) -> float | None:
    """The value a degenerate network gets for proxy ``name`` (minibatch of ``n``); None: no floor.

    Examples
    --------
    >>> floor("swap", 64), floor("grasp", 64), round(floor("jacob_cov", 2), 1)
    (0.0, None, -99989.7)
    """
    if name == "jacob_cov":
        return jacob_cov_floor(n)
    return 0.0 if name in _ZERO_FLOOR else None


def _batch_pass(model, names, inputs, targets) -> tuple[dict, dict]:
    """naswot, swap, jacob_cov, snip, grad_norm, fisher, grasp from one forward and one backward pass."""
    values, degenerate = {}, {}
    n = inputs.shape[0]
    need_loss = any(p in names for p in LOSS_PROXIES)
    need_jac = "jacob_cov" in names
    layers = weight_layers(model)
    weights = [m.weight for m in layers]
    handles = []
    codes: list = []  # (code, whether it comes from a feature map)
    acts: list = []

    if "naswot" in names or "swap" in names:
        def keep_codes(module, inp, out):
            codes.append((inp[0].detach().reshape(n, -1) > 0, inp[0].dim() >= 3))

        handles += [m.register_forward_hook(keep_codes) for m in model.modules() if isinstance(m, ACTIVATIONS)]
    if "fisher" in names:
        def keep_activation(module, inp, out):
            acts.append((module, out))

        handles += [m.register_forward_hook(keep_activation) for m in layers]
    try:
        x = inputs.detach().clone().requires_grad_(need_jac)
        with torch.set_grad_enabled(need_loss or need_jac):
            out = model(x)
    finally:
        for h in handles:
            h.remove()

    constant = is_constant(out)
    if "naswot" in names:
        values["naswot"], degenerate["naswot"] = naswot_score(codes_kernel([c for c, _ in codes]), n)
    if "swap" in names:  # SWAP reads the activations of feature maps, as its reference
        values["swap"] = float(swap_count([c for c, is_map in codes if is_map]))
        degenerate["swap"] = values["swap"] == 0.0
    if need_jac:
        (jac,) = torch.autograd.grad(out, x, grad_outputs=torch.ones_like(out), retain_graph=need_loss,
                                     allow_unused=True)
        jac = torch.zeros_like(x) if jac is None else jac
        values["jacob_cov"], degenerate["jacob_cov"] = jacob_cov_score(jac)
    if not need_loss:
        return _floored(values, degenerate, constant, n)

    loss = F.cross_entropy(out, targets)
    wanted = weights + [a for _, a in acts]
    if not loss.requires_grad:  # nothing trainable reaches the loss
        grads = [None] * len(wanted)
    else:
        grads = list(torch.autograd.grad(loss, wanted, allow_unused=True, create_graph="grasp" in names))
    gw, ga = grads[:len(weights)], grads[len(weights):]

    values.update(gradient_scores(names, weights, gw, acts, ga))
    for name in ("snip", "grad_norm", "fisher"):
        if name in names:
            degenerate[name] = values[name] == 0.0
    if "grasp" in names:
        degenerate["grasp"] = False
    return _floored(values, degenerate, constant, n)


def _floored(values: dict, degenerate: dict, constant: bool, n: int) -> tuple[dict, dict]:
    """Give a network whose output is constant each proxy's floor (grasp: flagged only)."""
    if not constant:
        return values, degenerate
    for name in values:
        low = floor(name, n)
        if low is not None:
            values[name] = low
        degenerate[name] = True
    return values, degenerate


def compute(model, names, inputs, targets) -> tuple[dict, dict]:
    """Proxy values and degenerate flags of ``model`` for each of ``names`` (of :data:`NETWORK_PROXIES`).

    ``model`` is put in training mode and, when ``synflow`` is asked for, changed in
    place (absolute weights, double precision): pass a network built for the purpose.
    """
    names = list(dict.fromkeys(names))
    values, degenerate = {}, {}
    n = inputs.shape[0]
    model.train()
    with torch.enable_grad(), replayed_randomness(inputs.device) as replay:  # also inside a caller's no_grad()
        if "params" in names:
            from ..model_stats import count_params

            values["params"], degenerate["params"] = float(count_params(model)), False
        if "flops" in names:
            from ..model_stats import count_flops

            values["flops"], degenerate["flops"] = float(count_flops(model, tuple(inputs.shape[1:]))), False
            model.train()
        if any(p in names for p in SHARED_PASS):
            replay()
            v, d = _batch_pass(model, names, inputs, targets)
            values.update(v)
            degenerate.update(d)
        if "meco" in names:
            values["meco"], degenerate["meco"] = meco(model, inputs, replay)
        if "zico" in names:
            value, flagged, constant = zico(model, inputs, targets, replay)
            values["zico"], degenerate["zico"] = (floor("zico", n), True) if constant else (value, flagged)
        if "synflow" in names:
            replay()
            values["synflow"], degenerate["synflow"] = synflow(model, tuple(inputs.shape[1:]), inputs.device)
    return {p: values[p] for p in names}, {p: degenerate[p] for p in names}
