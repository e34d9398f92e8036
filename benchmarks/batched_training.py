"""Batched training: N CellSpace candidates trained together versus one after another.

The same ``--n`` random cells (seeded), the same data (digits at 8x8, the full training
part), the same epochs, batch size, optimizer, schedule, seeds and ``--threads`` torch
threads, trained

1. one at a time with a plain PyTorch loop (``space.build`` + SGD + cosine schedule, no
   nasviz estimator code), doing per epoch what the estimator does: re-estimate the
   BatchNorm statistics from 4 training minibatches, then validation and test accuracy; and
2. with ``nv.estimators.Training(...).evaluate_many`` (fused chunks of candidates).

It prints a table (total and per-candidate seconds, CPU seconds of this process, mean
validation accuracy of each, mean absolute difference and Spearman rank correlation
between the two), the share of the machine's peak float32 FLOP/s each path reaches, and
a last line ``speedup: X.XX`` (wall time; the CPU-time ratio is printed above it).

FLOPs are counted with ``torch.utils.flop_counter.FlopCounterMode`` on one training
step (forward + backward of one minibatch) and one evaluation forward of each network
built by ``space.build``, then scaled by the number of steps and evaluated samples;
FlopCounterMode counts convolutions and matrix products only (BatchNorm, pooling and
elementwise work are not counted). Both paths do the same useful work, so both rates use
that count: FlopCounterMode over-counts the fused network's backward pass (it charges a
grouped convolution's weight gradient as if every group saw every input channel), which
the script prints for reference. The peak is the best rate of a large float32 matrix
product with the same threads.

Both paths use ``--threads`` torch threads in one process. The fair baseline on these tiny
networks is one thread per process and a process per core (a plain loop at 2 threads is about
2.4x slower than at 1), so the default, 1 thread, compares the two per core. ``--task
shifted201`` uses that table's recipe (12x12 shifted digits, 4 channels, 6 epochs, batch 128,
chunks of 16) instead of the flags; ``--n 8,32,128`` runs the comparison once per size, each fused
as one chunk (unless ``--max-batch``), to show how the speedup grows with the candidates trained
together.

Usage::

    python benchmarks/batched_training.py                     # 64 cells, CPU, 1 thread
    python benchmarks/batched_training.py --task shifted201 --n 8,32,128 --plain-n 8
    python benchmarks/batched_training.py --n 256 --device cuda

The machine may be shared: the load average is printed next to the timings.
"""

from __future__ import annotations

import argparse
import math
import os
import time

import numpy as np


def plain_train(space, arch, data, *, epochs, batch_size, lr, weight_decay, channels, seed, device):
    """One candidate, the ordinary way. Returns the final validation accuracy."""
    import torch
    import torch.nn.functional as F

    from nasviz.estimators.fit import recalibrate_bn

    torch.manual_seed(seed)
    model = space.build(arch, num_classes=data.num_classes, in_channels=data.in_channels, channels=channels).to(device)
    opt = torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9, nesterov=True, weight_decay=weight_decay)
    n = len(data.y_train)
    steps = math.ceil(n / batch_size)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=epochs * steps)
    gen = torch.Generator().manual_seed(seed)

    def accuracy(X, y):
        model.eval()
        with torch.no_grad():
            return (model(X).argmax(1) == y).float().mean().item()

    for _ in range(epochs):
        model.train()
        perm = torch.randperm(n, generator=gen).to(device)
        for s in range(steps):
            idx = perm[s * batch_size:(s + 1) * batch_size]
            loss = F.cross_entropy(model(data.X_train[idx]), data.y_train[idx])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
        recalibrate_bn(model, data.X_train, 4, batch_size)  # as Training(recalibrate_bn=4) does
        val = accuracy(data.X_val, data.y_val)
        accuracy(data.X_test, data.y_test)
    return val


def step_flops(model_fn, X, y, loss_fn):
    """FLOPs of one forward + backward of ``model_fn`` on (X, y), and of one forward alone."""
    from torch.utils.flop_counter import FlopCounterMode

    counter = FlopCounterMode(display=False)
    with counter:
        loss_fn(model_fn(X), y).backward()
    train = counter.get_total_flops()
    counter = FlopCounterMode(display=False)
    import torch

    with counter, torch.no_grad():
        model_fn(X)
    return train, counter.get_total_flops()


def peak_flops(device, size=2048, repeats=10):
    import torch

    a = torch.randn(size, size, device=device)
    b = torch.randn(size, size, device=device)
    best = math.inf
    for _ in range(repeats):
        if device.type == "cuda":
            torch.cuda.synchronize()
        t = time.perf_counter()
        a @ b
        if device.type == "cuda":
            torch.cuda.synchronize()
        best = min(best, time.perf_counter() - t)
    return 2 * size ** 3 / best


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", default="64", help="number of cells, or a comma-separated list (default 64)")
    parser.add_argument("--task", default=None, choices=("shifted201",),
                        help="use this table's recipe for data, width, epochs and batch instead of the flags")
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--channels", type=int, default=8)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--device", default="cpu", help="cpu, cuda or auto")
    parser.add_argument("--max-batch", type=int, default=None, help="candidates per fused chunk")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--plain-n", type=int, default=None,
                        help="train only this many cells with the plain loop and scale its time (for large --n)")
    args = parser.parse_args(argv)
    sizes = [int(v) for v in str(args.n).split(",")]
    for n in sizes:
        if len(sizes) > 1:
            print(f"\n## {n} candidates")
        one_size(argparse.Namespace(**{**vars(args), "n": n,
                                       "max_batch": args.max_batch or (n if len(sizes) > 1 else None)}))


def one_size(args):
    import torch
    from scipy.stats import spearmanr

    import nasviz as nv
    from nasviz.estimators.fused import FusedCellNetwork
    from nasviz.estimators.fused_fit import candidate_losses

    torch.set_num_threads(args.threads)
    if args.task is not None:
        recipe = nv.bench.recipe(args.task)
        data = recipe.data()
        est = recipe.estimator(args.seed, data=data, device=args.device,
                               **({"max_batch": args.max_batch} if args.max_batch else {}))
        args.epochs, args.batch_size, args.channels = est.epochs, est.batch_size, est.channels
        what = f"{args.task}'s recipe"
    else:
        est = nv.estimators.Training(nv.data.digits(resolution=8), epochs=args.epochs, batch_size=args.batch_size,
                                     channels=args.channels, device=args.device, seed=args.seed,
                                     max_batch=args.max_batch)
        what = "digits 8x8"
    device = est._resolved_device()
    data = est.data.to(device)
    space = nv.CellSpace()
    rng = np.random.default_rng(args.seed)
    archs = [space[int(i)] for i in rng.choice(len(space), size=args.n, replace=False)]
    plain_n = args.n if args.plain_n is None else min(args.plain_n, args.n)

    def sync():
        if device.type == "cuda":
            torch.cuda.synchronize()

    load_before = os.getloadavg()
    # 1. plain loop, one at a time
    plain_train(space, archs[0], data, epochs=1, batch_size=args.batch_size, lr=est.effective_lr,  # warm-up
                weight_decay=est.weight_decay, channels=args.channels, seed=args.seed, device=device)
    sync()
    start, cpu_start = time.perf_counter(), time.process_time()
    plain = [plain_train(space, a, data, epochs=args.epochs, batch_size=args.batch_size, lr=est.effective_lr,
                         weight_decay=est.weight_decay, channels=args.channels, seed=args.seed, device=device)
             for a in archs[:plain_n]]
    sync()
    plain_time = (time.perf_counter() - start) * args.n / plain_n
    plain_cpu = (time.process_time() - cpu_start) * args.n / plain_n
    print(f"plain loop: {plain_time:.1f} s for {args.n} cells (load average {os.getloadavg()[0]:.2f})", flush=True)
    # 2. batched
    est.evaluate_many(archs[:2], fidelity=1)  # warm-up
    sync()
    start, cpu_start = time.perf_counter(), time.process_time()
    results = est.evaluate_many(archs)
    sync()
    batched_time = time.perf_counter() - start
    batched_cpu = time.process_time() - cpu_start
    print(f"evaluate_many: {batched_time:.1f} s for {args.n} cells (load average {os.getloadavg()[0]:.2f})",
          flush=True)
    load_after = os.getloadavg()
    batched = [r.score for r in results]
    failed = sum(not r.ok for r in results)

    # FLOPs: one training step and one evaluation forward of each path, scaled
    import torch.nn.functional as F

    n_train, n_eval = len(data.y_train), len(data.y_val) + len(data.y_test)
    X, y = data.X_train[:args.batch_size], data.y_train[:args.batch_size]
    scale_train = args.epochs * n_train / args.batch_size
    scale_eval = args.epochs * n_eval / args.batch_size
    plain_flops = 0.0
    for a in archs:
        net = space.build(a, num_classes=10, in_channels=1, channels=args.channels).to(device)
        tr, ev = step_flops(net, X, y, F.cross_entropy)
        plain_flops += tr * scale_train + ev * scale_eval
    chunk = est.max_batch or est.default_max_batch()
    fused_flops = plain_flops  # the same useful work (see the module docstring)
    nets = [est._build_model(a) for a in archs[:chunk]]
    fused = FusedCellNetwork(nets).to(device)
    counted, _ = step_flops(fused, X, y, lambda logits, t: candidate_losses(logits, t).sum())
    one_by_one = sum(step_flops(n.to(device), X, y, F.cross_entropy)[0] for n in nets)
    peak = peak_flops(device)

    plain_acc, batched_acc = np.array(plain[:plain_n]), np.array(batched[:plain_n])
    ok = np.isfinite(batched_acc)
    rows = [
        ("plain loop, one at a time", plain_time, plain_cpu, np.mean(plain_acc), plain_flops),
        (f"evaluate_many (chunks of {min(chunk, args.n)})", batched_time, batched_cpu, np.nanmean(batched_acc),
         fused_flops),
    ]
    print(f"{args.n} cells, {what}, {args.epochs} epochs, batch {args.batch_size}, channels {args.channels}, "
          f"device {device}, threads {args.threads}; load average before {load_before[0]:.2f}, "
          f"after {load_after[0]:.2f} (the machine is shared)")
    if plain_n < args.n:
        print(f"(plain loop timed on {plain_n} cells and scaled to {args.n})")
    print(f"peak float32 matmul: {peak / 1e9:.1f} GFLOP/s")
    print(f"{'path':36s} {'total s':>9s} {'per cand s':>11s} {'CPU s':>8s} {'mean val':>9s} {'GFLOP':>8s} "
          f"{'GFLOP/s':>8s} {'% peak':>7s}")
    for name, secs, cpu, acc, flops in rows:
        rate = flops / secs
        print(f"{name:36s} {secs:9.2f} {secs / args.n:11.4f} {cpu:8.2f} {acc:9.4f} {flops / 1e9:8.2f} "
              f"{rate / 1e9:8.2f} {100 * rate / peak:6.2f}%")
    diff = np.abs(plain_acc[ok] - batched_acc[ok])
    rho = spearmanr(plain_acc[ok], batched_acc[ok]).statistic if ok.sum() > 2 else math.nan
    print(f"failed candidates (batched): {failed}")
    print(f"FlopCounterMode on one training step of the first chunk: fused {counted / 1e9:.3f} GFLOP, the same "
          f"networks one by one {one_by_one / 1e9:.3f} GFLOP (it charges a grouped convolution's weight "
          f"gradient as if each group saw every input channel; the rates above use the one-by-one count for both)")
    print(f"mean |val acc difference|: {diff.mean():.4f} (max {diff.max():.4f}); Spearman: {rho:.3f}")
    print(f"speedup in CPU time (less sensitive to other processes on a shared machine): "
          f"{plain_cpu / batched_cpu:.2f}")
    print(f"speedup: {plain_time / batched_time:.2f}")


if __name__ == "__main__":
    main()
