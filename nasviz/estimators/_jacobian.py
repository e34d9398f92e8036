"""``jacob_cov``: how differently the images' input gradients point (imports torch)."""

from __future__ import annotations

import math

import torch

__all__ = ["jacob_cov_floor", "jacob_cov_score"]

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


def jacob_cov_score(jac: torch.Tensor) -> tuple[float, bool]:
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
