"""Zero-cost proxies computed on one ``torch.nn.Module`` at initialisation.

Imported only when a zero-cost estimator is used (it imports torch). The
definitions follow Abdelfattah et al., "Zero-Cost Proxies for Lightweight NAS"
(ICLR 2021) and their reference code: the network is in training mode (batch
normalisation uses the minibatch's statistics), the loss is cross-entropy on one
minibatch, and per-weight scores are summed over the weights of every
``Conv2d`` and ``Linear`` layer. Several proxies requested together share one
forward pass and one backward pass; ``synflow`` needs its own pass (absolute
weights, no batch normalisation, all-ones input) and runs last, because it
changes the network in place.

A network whose output does not depend on its input (for example a cell whose
input never reaches its output: its output is the same for every image) is
*degenerate*. Several proxies are zero or undefined for it, and ``naswot`` would
still reward the activations of branches that lead nowhere. Every minibatch
proxy therefore gives it its *floor*, the lowest value the proxy can take, and
flags it: 0 for ``snip``, ``grad_norm`` and ``fisher`` (sums of absolute values
or squares); 0 for ``naswot`` (a non-singular kernel is an integer matrix with
determinant >= 1, so every other score is >= 0; a singular kernel, whose
log-determinant is minus infinity, gets 0 too); :func:`jacob_cov_floor` for
``jacob_cov`` (all Jacobians perfectly correlated, its worst case; constant
Jacobians have no correlation). ``grasp`` is flagged but keeps its computed value:
it may be negative, so it has no floor. The data-free ``synflow`` is flagged
when its flow is exactly zero, which is its floor.
"""

from __future__ import annotations

import math
import types

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

__all__ = ["BATCH_PROXIES", "LOSS_PROXIES", "compute", "jacob_cov_floor"]

#: proxies that need the minibatch (the others are data-free)
BATCH_PROXIES = ("naswot", "jacob_cov", "snip", "grad_norm", "fisher", "grasp")
#: proxies that need the loss gradient
LOSS_PROXIES = ("snip", "grad_norm", "fisher", "grasp")

# activation modules whose input sign gives naswot's binary code (the ReLU family, as in the reference; the
# others have their bend or inflection at zero too, so that layer chains with them get a code as well)
_ACTIVATIONS = (nn.ReLU, nn.ReLU6, nn.LeakyReLU, nn.ELU, nn.GELU, nn.SiLU, nn.Tanh, nn.Sigmoid)

_JACOB_K = 1e-5


def jacob_cov_floor(n: int) -> float:
    """The lowest ``jacob_cov`` score for a minibatch of ``n`` images (all Jacobians perfectly correlated).

    Examples
    --------
    >>> round(jacob_cov_floor(2), 1)
    -99989.7
    """
    k = _JACOB_K
    return -((n - 1) * (math.log(k) + 1 / k) + math.log(n + k) + 1 / (n + k))


def _weight_layers(model):
    return [m for m in model.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]


def _codes_kernel(codes) -> torch.Tensor | None:
    """K = C C^T + (1-C)(1-C)^T for the binary codes C of every hooked unit, in float64.

    With +-1 codes s = 2C - 1, s_i . s_j = units - 2 * hamming(i, j), so K = (units + s s^T) / 2:
    one matrix product, exact in float32 while units < 2**24.
    """
    if not codes:
        return None
    s = torch.cat(codes, dim=1).to(torch.float32).mul_(2).sub_(1)
    if s.shape[1] >= 2**24:
        s = s.double()
    return (s @ s.T + s.shape[1]).double() / 2


def _naswot_score(codes_kernel: torch.Tensor | None, n: int) -> tuple[float, bool]:
    """log|K| for the accumulated kernel; singular (or no codes) -> floor 0.

    K is an integer, positive semi-definite matrix, so a non-singular K has det >= 1:
    0 is below every non-degenerate score.
    """
    if codes_kernel is None:
        return 0.0, True
    K = codes_kernel.detach().to("cpu", torch.float64)
    if int(torch.linalg.matrix_rank(K, hermitian=True)) < n:
        return 0.0, True
    sign, logabs = torch.linalg.slogdet(K)
    if float(sign) <= 0 or not math.isfinite(float(logabs)):
        return 0.0, True
    return max(float(logabs), 0.0), False


def _jacob_cov_score(jac: torch.Tensor) -> tuple[float, bool]:
    """Reference ``eval_score`` on the correlation matrix of the per-image gradients.

    Images whose gradient is constant (zero variance) have no defined correlation; they are
    treated as perfectly correlated with each other and uncorrelated with the rest, which
    keeps the matrix a valid correlation matrix. When every image is such, the score is
    :func:`jacob_cov_floor`.
    """
    J = jac.detach().reshape(jac.shape[0], -1).to("cpu", torch.float64)
    n = J.shape[0]
    J = J - J.mean(dim=1, keepdim=True)
    norms = J.norm(dim=1)
    scale = float(norms.max()) if n else 0.0
    flat = norms <= 1e-12 * max(scale, 1e-300)
    if bool(flat.all()):
        return jacob_cov_floor(n), True
    Jn = J / torch.where(flat, torch.ones_like(norms), norms)[:, None]
    corr = Jn @ Jn.T
    corr.fill_diagonal_(1.0)
    if bool(flat.any()):
        corr[flat] = 0.0
        corr[:, flat] = 0.0
        idx = torch.nonzero(flat).flatten()
        corr[idx[:, None], idx[None, :]] = 1.0
    v = torch.linalg.eigvalsh(corr).clamp_min(0.0)
    k = _JACOB_K
    score = -float(torch.sum(torch.log(v + k) + 1.0 / (v + k)))
    return score, False


def _batch_pass(model, names, inputs, targets) -> tuple[dict, dict]:
    """naswot, jacob_cov, snip, grad_norm, fisher, grasp from one forward and one backward pass."""
    values, degenerate = {}, {}
    n = inputs.shape[0]
    need_loss = any(p in names for p in LOSS_PROXIES)
    need_jac = "jacob_cov" in names
    layers = _weight_layers(model)
    weights = [m.weight for m in layers]
    handles = []
    codes: list = []
    acts: list = []

    if "naswot" in names:
        def keep_codes(module, inp, out):
            codes.append(inp[0].detach().reshape(n, -1) > 0)

        handles += [m.register_forward_hook(keep_codes) for m in model.modules() if isinstance(m, _ACTIVATIONS)]
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

    constant = _is_constant(out)
    if "naswot" in names:
        values["naswot"], degenerate["naswot"] = _naswot_score(_codes_kernel(codes), n)
    if need_jac:
        (jac,) = torch.autograd.grad(out, x, grad_outputs=torch.ones_like(out), retain_graph=need_loss,
                                     allow_unused=True)
        jac = torch.zeros_like(x) if jac is None else jac
        values["jacob_cov"], degenerate["jacob_cov"] = _jacob_cov_score(jac)
    if not need_loss:
        return _floored(values, degenerate, constant, n)

    loss = F.cross_entropy(out, targets)
    act_tensors = [a for _, a in acts]
    wanted = weights + act_tensors
    if not loss.requires_grad:  # nothing trainable reaches the loss
        grads = [None] * len(wanted)
    else:
        grads = list(torch.autograd.grad(loss, wanted, allow_unused=True, create_graph="grasp" in names))
    gw, ga = grads[:len(weights)], grads[len(weights):]

    values.update(_gradient_scores(names, weights, gw, acts, ga))
    for name in ("snip", "grad_norm", "fisher"):
        if name in names:
            degenerate[name] = values[name] == 0.0
    if "grasp" in names:
        degenerate["grasp"] = False
    return _floored(values, degenerate, constant, n)


def _gradient_scores(names, weights, gw, acts, ga) -> dict:
    """snip, grad_norm, fisher and grasp from the loss's gradients (``gw`` of weights, ``ga`` of activations)."""
    values = {}
    if "snip" in names:
        values["snip"] = float(sum((w.detach() * g.detach()).abs().sum().double() for w, g in zip(weights, gw)
                                   if g is not None))
    if "grad_norm" in names:
        values["grad_norm"] = float(sum(g.detach().double().norm() for g in gw if g is not None))
    if "fisher" in names:
        values["fisher"] = _fisher(acts, ga)
    if "grasp" in names:
        values["grasp"] = _grasp(weights, gw)
    return values


def _fisher(acts, ga) -> float:
    total = 0.0
    for (layer, act), g in zip(acts, ga):
        if g is None:
            continue
        prod = (act.detach() * g.detach()).double()
        g_nk = prod.sum(dim=tuple(range(2, prod.dim()))) if prod.dim() > 2 else prod
        per_channel = 0.5 * g_nk.pow(2).mean(0)
        total += float(per_channel.sum()) * int(np.prod(layer.weight.shape[1:]))
    return total


def _grasp(weights, gw) -> float:
    z = None
    for g in gw:
        if g is not None and g.requires_grad:
            term = (g.detach() * g).sum()
            z = term if z is None else z + term
    if z is None:
        return 0.0
    hg = torch.autograd.grad(z, weights, allow_unused=True)
    return float(sum((-w.detach() * h).sum().double() for w, h in zip(weights, hg) if h is not None))


def _is_constant(out) -> bool:
    """Whether the network's output is the same for every image of the minibatch."""
    out = out.detach()
    spread = float((out - out[:1]).abs().max())
    return spread <= 1e-6 * float(out.abs().max()) + 1e-30


def _floored(values: dict, degenerate: dict, constant: bool, n: int) -> tuple[dict, dict]:
    """Give a network whose output is constant each proxy's floor (grasp: flagged only)."""
    if not constant:
        return values, degenerate
    floors = {"naswot": 0.0, "jacob_cov": jacob_cov_floor(n), "snip": 0.0, "grad_norm": 0.0, "fisher": 0.0}
    for name in values:
        if name in floors:
            values[name] = floors[name]
        degenerate[name] = True
    return values, degenerate


def _identity_forward(self, x):
    return x


def _synflow(model, input_shape, device) -> tuple[float, bool]:
    """Synaptic flow, as the reference computes it (changes ``model`` in place)."""
    for m in model.modules():
        if isinstance(m, nn.modules.batchnorm._BatchNorm):
            m.forward = types.MethodType(_identity_forward, m)  # the reference's bn=False copy
    model.double()
    with torch.no_grad():
        for tensor in model.state_dict().values():
            if tensor.is_floating_point():
                tensor.abs_()
    weights = [m.weight for m in _weight_layers(model)]
    x = torch.ones((1, *input_shape), dtype=torch.float64, device=device)
    out = model(x)
    total = out.sum()
    if not total.requires_grad:
        return 0.0, True
    grads = torch.autograd.grad(total, weights, allow_unused=True)
    value = float(sum((w.detach() * g).abs().sum() for w, g in zip(weights, grads) if g is not None))
    return value, value == 0.0


def compute(model, names, inputs, targets) -> tuple[dict, dict]:
    """Proxy values and degenerate flags of ``model`` for each of ``names``.

    ``model`` is put in training mode and, when ``synflow`` is asked for, changed in
    place (absolute weights, double precision): pass a network built for the purpose.
    """
    names = list(dict.fromkeys(names))
    values, degenerate = {}, {}
    model.train()
    if "params" in names:
        from ..model_stats import count_params

        values["params"], degenerate["params"] = float(count_params(model)), False
    if "flops" in names:
        from ..model_stats import count_flops

        values["flops"], degenerate["flops"] = float(count_flops(model, tuple(inputs.shape[1:]))), False
        model.train()
    if any(p in names for p in BATCH_PROXIES):
        v, d = _batch_pass(model, names, inputs, targets)
        values.update(v)
        degenerate.update(d)
    if "synflow" in names:
        values["synflow"], degenerate["synflow"] = _synflow(model, tuple(inputs.shape[1:]), inputs.device)
    return {p: values[p] for p in names}, {p: degenerate[p] for p in names}
