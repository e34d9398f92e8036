"""Proxies from binary activation codes: which side of zero each activation's input is on.

``naswot`` (Mellor et al., ICML 2021) compares the images' codes with each other (a kernel
over the minibatch); ``swap`` (Peng et al., ICLR 2024) compares the units' codes with each
other (how many distinct on/off patterns the units show over the minibatch). Both read the
codes that one forward pass of the minibatch records (imports torch).
"""

from __future__ import annotations

import math

import numpy as np
import torch
from torch import nn

__all__ = ["ACTIVATIONS", "codes_kernel", "naswot_score", "swap_count"]

# activation modules whose input sign gives the binary code (the ReLU family, as in the references; the
# others have their bend or inflection at zero too, so that layer chains with them get a code as well)
ACTIVATIONS = (nn.ReLU, nn.ReLU6, nn.LeakyReLU, nn.ELU, nn.GELU, nn.SiLU, nn.Tanh, nn.Sigmoid)


def codes_kernel(codes) -> torch.Tensor | None:
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


def naswot_score(kernel: torch.Tensor | None, n: int) -> tuple[float, bool]:
    """log|K| for the accumulated kernel; singular (or no codes) -> floor 0.

    K is an integer, positive semi-definite matrix, so a non-singular K has det >= 1:
    0 is below every non-degenerate score.
    """
    if kernel is None:
        return 0.0, True
    K = kernel.detach().to("cpu", torch.float64)
    if int(torch.linalg.matrix_rank(K, hermitian=True)) < n:
        return 0.0, True
    sign, logabs = torch.linalg.slogdet(K)
    if float(sign) <= 0 or not math.isfinite(float(logabs)):
        return 0.0, True
    return max(float(logabs), 0.0), False


def swap_count(codes) -> int:
    """The number of distinct columns of the (images x units) code matrix: SWAP's score.

    Each unit's pattern over the minibatch (its column, one bit per image) is packed into
    64-bit words, and the distinct rows of the (units x words) array are counted after a
    lexicographic sort. No codes: 0.
    """
    if not codes:
        return 0
    bits = torch.cat(codes, dim=1).T.contiguous().cpu().numpy()  # (units, images)
    packed = np.packbits(bits, axis=1)
    pad = (-packed.shape[1]) % 8
    if pad:
        packed = np.pad(packed, ((0, 0), (0, pad)))
    words = np.ascontiguousarray(packed).view(np.uint64)  # (units, words)
    if words.shape[1] == 1:
        return int(np.unique(words[:, 0]).size)
    ordered = words[np.lexsort(words.T)]
    return 1 + int(np.count_nonzero((ordered[1:] != ordered[:-1]).any(axis=1)))
