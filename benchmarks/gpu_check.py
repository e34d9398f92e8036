"""nasviz on a CUDA GPU: does it agree with the CPU, and how much faster is fused training there?

Three checks, one run (``benchmarks/gpu_check.sh`` runs this with the batched-training
benchmark at N = 64, 256 and 1,024):

1. **Training agrees**: ``--cells`` random connected cells trained with ``shifted201``'s recipe
   on the CPU and on CUDA, ``--seeds`` seeds each (fused chunks on both). Floating-point
   order differs between the devices, and training amplifies it to about the seed noise, so
   the claim checked is statistical: per cell, the CPU and CUDA mean final validation
   accuracies differ by less than 4 standard errors of that difference (from the seed
   spread), for all but at most 5 % of the cells, and the Spearman between the two devices'
   means is at least as high as between two halves of the CPU's own seeds minus 0.1.
2. **Zero-cost scores agree**: every proxy of ``nasviz.estimators.zero_cost.PROXIES`` on ``--cells`` cells,
   CPU vs CUDA, same seed and minibatch: relative difference <= 1e-3 for at least 95 % of the
   cells, and Spearman >= 0.99 between devices.
3. **Memory**: the peak CUDA memory of the fused training above.

It prints each figure and ``PASS`` or ``FAIL`` per check, and exits 1 if a check fails.
Run it where ``torch.cuda.is_available()``; elsewhere it says so and exits 2.

Usage::

    python benchmarks/gpu_check.py --cells 32 --seeds 4
"""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np


def spearman(a, b) -> float:
    from scipy.stats import spearmanr

    return float(spearmanr(a, b).statistic)


def train(recipe, cells, seeds, device, data):
    """(seeds, cells) final validation accuracies and the seconds it took."""
    import torch

    out = np.zeros((len(seeds), len(cells)))
    start = time.perf_counter()
    for i, s in enumerate(seeds):
        est = recipe.estimator(s, data=data, device=device)
        res = est.evaluate_many(cells)
        out[i] = [r.score if r.ok else np.nan for r in res]
    if device == "cuda":
        torch.cuda.synchronize()
    return out, time.perf_counter() - start


def check_training(args) -> bool:
    import torch

    import nasviz as nv
    from nasviz.bench.build.recipes import get_recipe

    recipe = get_recipe("shifted201")
    data = recipe.data()
    space = nv.CellSpace()
    _, reps = space.canonical_classes()
    connected = [int(i) for i in reps if space.is_connected(space[int(i)])]
    rng = np.random.default_rng(args.seed)
    cells = [space[int(i)] for i in rng.choice(connected, size=args.cells, replace=False)]
    seeds = list(range(args.seeds))
    if args.device == "cuda":
        torch.cuda.reset_peak_memory_stats()
    cpu, t_cpu = train(recipe, cells, seeds, "cpu", data)
    gpu, t_gpu = train(recipe, cells, seeds, args.device, data)
    peak = torch.cuda.max_memory_allocated() if args.device == "cuda" else float("nan")
    diff = cpu.mean(0) - gpu.mean(0)
    se = np.sqrt(cpu.var(0, ddof=1) / len(seeds) + gpu.var(0, ddof=1) / len(seeds))
    se = np.maximum(se, 1.0 / len(data.y_val))  # one validation image: the resolution of an accuracy
    outside = float(np.mean(np.abs(diff) > 4 * se))
    rho = spearman(cpu.mean(0), gpu.mean(0))
    h = len(seeds) // 2
    rho_cpu = spearman(cpu[:h].mean(0), cpu[h:2 * h].mean(0)) if h else float("nan")
    ok = outside <= 0.05 and (not h or rho >= rho_cpu - 0.1)
    print(f"1. training ({args.cells} cells x {args.seeds} seeds, shifted201's recipe): CPU {t_cpu:.1f} s, {args.device} "
          f"{t_gpu:.1f} s; mean val acc CPU {cpu.mean():.4f}, CUDA {gpu.mean():.4f}; mean |CPU - CUDA| per cell "
          f"{np.abs(diff).mean():.4f}, share beyond 4 standard errors {100 * outside:.1f}% (<= 5%); Spearman "
          f"CPU vs CUDA means {rho:.3f} (CPU half vs half {rho_cpu:.3f}) -> {'PASS' if ok else 'FAIL'}")
    print(f"3. peak CUDA memory of that training: {peak / 2 ** 20:.1f} MiB")
    return ok


def check_zero_cost(args) -> bool:
    import nasviz as nv

    data = nv.data.digits()
    space = nv.CellSpace()
    rng = np.random.default_rng(args.seed)
    cells = [space[int(i)] for i in rng.choice(len(space), size=args.cells, replace=False)]
    ok_all = True
    from nasviz.estimators.zero_cost import PROXIES

    for name in PROXIES:
        scores = {}
        for device in ("cpu", args.device):
            est = nv.estimators.ZeroCost(name, data, seed=args.seed, device=device)
            scores[device] = np.array([r.score if r.ok else np.nan for r in est.evaluate_many(cells)])
        a, b = scores["cpu"], scores[args.device]
        fin = np.isfinite(a) & np.isfinite(b)
        rel = np.abs(a[fin] - b[fin]) / np.maximum(np.abs(a[fin]), 1e-12)
        close = float(np.mean(rel <= 1e-3)) if fin.any() else 0.0
        rho = spearman(a[fin], b[fin]) if fin.sum() > 2 else float("nan")
        same_nan = bool((np.isnan(a) == np.isnan(b)).all())
        ok = close >= 0.95 and (rho >= 0.99 or np.ptp(a[fin]) == 0) and same_nan
        ok_all &= ok
        print(f"2. zero-cost {name:>10}: within 1e-3 relative {100 * close:5.1f}% of {fin.sum()} cells, Spearman "
              f"{rho:.4f}, same failures {same_nan} -> {'PASS' if ok else 'FAIL'}")
    return ok_all


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--cells", type=int, default=32)
    p.add_argument("--seeds", type=int, default=4)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--device", default="cuda", help="the device compared with the CPU ('cpu': a dry run of the checks)")
    args = p.parse_args(argv)
    import torch

    if args.device == "cuda" and not torch.cuda.is_available():
        print("no CUDA device here: run this on a machine with an NVIDIA GPU")
        return 2
    name = torch.cuda.get_device_name(0) if args.device == "cuda" else args.device
    print(f"device: {name}, torch {torch.__version__}")
    ok = check_zero_cost(args)
    ok = check_training(args) and ok
    print("all checks PASS" if ok else "some checks FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
