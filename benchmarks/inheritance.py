"""Weight inheritance: how many epochs it saves, and where it misleads.

``--pairs`` parents (seeded random CellSpace cells) are trained from scratch for E
(``--epochs``) epochs; each gets one child, a one-edge mutation (``space.mutate``). Each
child is then trained

- from scratch with a short cosine schedule of e = 1 .. E epochs (the reference is e = E);
- from its parent's trained weights (``Training(inherit=True, inherit_epochs=k)``) for
  k = 0 .. E epochs (k = 0 judges the inherited weights as they are);
- and from scratch for E epochs with another seed: the noise floor of any ranking.

The table gives, for each k, the children's mean validation accuracy, the number of
from-scratch epochs whose mean accuracy it matches, the share of children at least as
good as their from-scratch E-epoch result, and the rank correlations across children:
with the from-scratch E-epoch scores (what a search wants) and with the parents' scores
(lineage: how much an inherited score says about the parent rather than the child).
Closing figures: the epochs inheritance saves to reach the from-scratch accuracy, and
where it misleads. All training is batched (``evaluate_many``).

Usage::

    python benchmarks/inheritance.py                  # 30 pairs, E = 4, 2 threads
    python benchmarks/inheritance.py --pairs 60 --epochs 8

The machine may be shared: the load average is printed next to the timings.
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=30)
    parser.add_argument("--epochs", type=int, default=4, help="E: the from-scratch budget")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    import torch
    from scipy.stats import kendalltau, spearmanr

    import nasviz as nv

    torch.set_num_threads(args.threads)
    space = nv.CellSpace()
    data = nv.data.digits(resolution=8)
    rng = np.random.default_rng(args.seed)
    parents = [space[int(i)] for i in rng.choice(len(space), size=args.pairs, replace=False)]
    children = [space.mutate(p, seed=args.seed * 100_003 + i) for i, p in enumerate(parents)]
    E = args.epochs
    load = os.getloadavg()[0]

    def estimator(**kwargs):
        return nv.estimators.Training(data, epochs=E, device=args.device, seed=args.seed, **kwargs)

    start = time.perf_counter()
    trainer = estimator(inherit=True)
    parent_scores = np.array([r.score for r in trainer.evaluate_many(parents)])
    parent_seconds = (time.perf_counter() - start) / args.pairs

    scratch, scratch_seconds = {}, {}
    for e in range(1, E + 1):
        start = time.perf_counter()
        scratch[e] = np.array([r.score for r in estimator().evaluate_many(children, fidelity=e)])
        scratch_seconds[e] = (time.perf_counter() - start) / args.pairs
    reference = scratch[E]

    other_seed = np.array([r.score for r in nv.estimators.Training(
        data, epochs=E, device=args.device, seed=args.seed + 1).evaluate_many(children)])

    inherited, inherited_seconds = {}, {}
    for k in range(E + 1):
        est = estimator(inherit=True, inherit_epochs=k)
        est._parents.update(trainer._parents)  # the same trained parents for every k
        start = time.perf_counter()
        results = est.evaluate_many(children, parents=parents)
        inherited_seconds[k] = (time.perf_counter() - start) / args.pairs
        inherited[k] = np.array([r.score for r in results])
        assert all(r.metrics.get("inherited") for r in results if r.ok)

    def matched_epochs(acc):
        """The most from-scratch epochs whose mean accuracy this mean accuracy reaches (0: none)."""
        best = 0
        for e in range(1, E + 1):
            if acc >= np.nanmean(scratch[e]) - 1e-12:
                best = e
        return best

    def rho(a, b):
        ok = np.isfinite(a) & np.isfinite(b)
        return spearmanr(a[ok], b[ok]).statistic, kendalltau(a[ok], b[ok]).statistic

    print(f"{args.pairs} parent/child pairs (one-edge mutations), digits 8x8, E = {E} epochs, batch "
          f"{trainer.batch_size}, device {trainer._resolved_device()}, threads {args.threads}; load average at "
          f"start {load:.2f}, at end {os.getloadavg()[0]:.2f} (the machine is shared)")
    print(f"parents: mean val acc {np.nanmean(parent_scores):.3f} ({parent_seconds:.3f} s each)")
    print("children trained from scratch:")
    print(f"  {'epochs':>6s} {'mean val':>9s} {'s/child':>8s} {'Spearman vs E':>14s}")
    for e in range(1, E + 1):
        print(f"  {e:6d} {np.nanmean(scratch[e]):9.3f} {scratch_seconds[e]:8.3f} {rho(scratch[e], reference)[0]:14.3f}")
    print("children from their parent's weights:")
    print(f"  {'k':>3s} {'mean val':>9s} {'= scratch epochs':>16s} {'>= own scratch':>14s} {'s/child':>8s} "
          f"{'Spearman vs scratch':>19s} {'Kendall':>8s} {'Spearman vs parent':>18s}")
    for k in range(E + 1):
        acc = np.nanmean(inherited[k])
        s, t = rho(inherited[k], reference)
        sp, _ = rho(inherited[k], parent_scores)
        share = np.nanmean(inherited[k] >= reference - 1e-12)
        print(f"  {k:3d} {acc:9.3f} {matched_epochs(acc):16d} {share:14.2f} {inherited_seconds[k]:8.3f} "
              f"{s:19.3f} {t:8.3f} {sp:18.3f}")
    print(f"scratch children vs their parents: Spearman {rho(reference, parent_scores)[0]:.3f}")
    saved = {k: matched_epochs(np.nanmean(inherited[k])) - k for k in range(1, E)}
    print("epochs saved: inheritance + k epochs reaches the mean accuracy of this many from-scratch epochs: "
          + ", ".join(f"k={k}: {matched_epochs(np.nanmean(inherited[k]))}" for k in range(1, E + 1))
          + f"; saving {', '.join(str(v) for v in saved.values())} epoch(s) for k = 1..{E - 1}")
    close = [k for k in range(E + 1) if np.nanmean(inherited[k]) >= np.nanmean(reference) - 0.005]
    if close:
        k = close[0]
        print(f"to within 0.5 points of {E} epochs from scratch ({np.nanmean(reference):.3f}): inheritance + {k} "
              f"epoch(s) ({np.nanmean(inherited[k]):.3f}), {E - k} of {E} epochs saved")
    floor = rho(other_seed, reference)[0]
    print(f"noise floor: the same children from scratch with another seed rank with Spearman {floor:.3f}")
    few = ", ".join(f"k={k}: {rho(inherited[k], reference)[0]:.3f} (with the parents: "
                    f"{rho(inherited[k], parent_scores)[0]:.3f})" for k in range(min(E, 2) + 1))
    print(f"where it misleads: Spearman of inherited scores with the children's own from-scratch scores, {few}")


if __name__ == "__main__":
    main()
