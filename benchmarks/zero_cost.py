"""Zero-cost proxies: cells scored per second, peak memory, and rank correlation with ground truth.

Each proxy runs in its own subprocesses (so that their peak resident memory, ``ru_maxrss``, is their
own) on the same seeded sample of CellSpace cells, digits at 8x8, batch 64, 8 channels, the sample
split over ``--workers`` one-thread processes: the 2-core budget used the way that is fastest for
networks this small (several torch threads per process mostly wait on each other). Then:

- the cost of naswot + synflow + snip computed together (``ZeroCost.scores``: one network, shared
  passes), in one process with ``--threads`` torch threads and in ``--workers`` processes with one
  thread each, and the projected time to score all 15,625 cells;
- ``--all`` really scores all 15,625 cells with those three (``--trio`` names three others, e.g. the
  three best against a truth), in ``--workers`` processes, and prints the wall time and the peak
  memory (sum of the workers' peaks plus this process); ``--per-class`` scores one network per
  canonical class (6,466: isomorphic cells compute the same function, so a proxy may score the
  class once) and gives every member its class's score;
- Spearman rank correlation of each proxy with the ground truth that exists: the ``digits201`` table
  when ``nv.bench`` ships it (its recipe's networks have 4 channels: pass ``--channels 4`` to score
  the very networks it trained); validation accuracy after ``--train-epochs`` epochs of
  ``nv.estimators.Training`` on the same sample (same data, same network size); and, as a transfer
  check, NAS-Bench-201's 12-epoch CIFAR-10 validation accuracy (``nb201-12epoch``) of the same cells,
  also with ``--nb201-proxies`` on NAS-Bench-201-sized networks (16 channels, 5 cells per stage,
  3x32x32 random inputs: no CIFAR image ships, so only the data-free proxies, and MeCo, whose
  reference also runs on a random image, are on their own ground there).

Each proxy is printed next to its published Spearman on NAS-Bench-201 CIFAR-10 (200 epochs; the
12-epoch table ranks like the 200-epoch one at about 0.87 and favours large networks less, so expect
lower figures against it, and the digits networks are ~100x smaller than NAS-Bench-201's):
Abdelfattah et al.'s reference notebook for synflow 0.74, jacob_cov 0.73, snip 0.60, grad_norm 0.59,
grasp 0.51, fisher 0.36 (absolute values); MeCo 0.89, ZiCo 0.78, SWAP 0.81 (the figures cited for
them); regularised SWAP 0.90 on CIFAR-100 (its abstract); vote 0.82 is the share of pairs the majority vote
orders correctly (Abdelfattah et al.'s statistic, printed beside ours), not a Spearman; AZ-NAS 0.91
uses AZ-NAS's own proxies, which nasviz's ``ensemble`` replaces by meco, zico, swap and flops.

The population proxies (``swap_reg``, ``vote``, ``ensemble``) rank each cell against the estimator's
reference sample (``ZeroCost(reference=...)``, 64 cells, scored once per process: its cost is printed
apart, not in cells/s). The papers rank the evaluated set among itself: the rows marked "within
sample" recompute them that way from the members' scores (``population_scores``).

Usage::

    python benchmarks/zero_cost.py --channels 4          # 200-cell sample, 2 cores, digits201's networks
    python benchmarks/zero_cost.py --all --workers 2     # plus every cell with naswot + synflow + snip
    python benchmarks/zero_cost.py --train-epochs 0      # skip the training reference
    python benchmarks/zero_cost.py --nb201-proxies all   # every proxy on NAS-Bench-201-sized networks (slow)
    python benchmarks/zero_cost.py --truth shifted201 --train-epochs 0 --nb201-proxies none   # the new truth
    python benchmarks/zero_cost.py --all --all-only --trio fisher,snip,grad_norm --per-class --channels 4 \
        --truth shifted201    # every cell with the three best against shifted201, one network per class

The machine is shared: the script prints the load average next to its timings.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

import numpy as np

HERE = os.path.abspath(__file__)
N_CELLS = 15625
TRIO = ("naswot", "synflow", "snip")
NB201_CHEAP = ("synflow", "params", "meco")  # data-free, or one image: cheap on NAS-Bench-201-sized nets
#: published Spearman on NAS-Bench-201 CIFAR-10 (see the module docstring for the sources and caveats)
PUBLISHED = {"synflow": "0.74", "jacob_cov": "0.73", "snip": "0.60", "grad_norm": "0.59", "grasp": "0.51",
             "fisher": "0.36", "meco": "0.89", "zico": "0.78", "swap": "0.81", "swap_reg": "0.90 C100",
             "vote": "0.82 pairs", "ensemble": "0.91 AZ-NAS"}
NB201_REF = "nb201 C10 val 12ep"
POPULATION = {"swap_reg": ("swap", "params"), "vote": ("synflow", "jacob_cov", "snip"),
              "ensemble": ("meco", "zico", "swap", "flops")}


# -- worker side (runs in a subprocess, imports torch) ---------------------------------------------
def _worker(spec: dict) -> dict:
    import resource

    import torch

    import nasviz as nv

    torch.set_num_threads(spec["threads"])
    if spec.get("truth"):  # the task of a table that nasviz builds (its recipe's data)
        from nasviz.bench.build.recipes import get_recipe

        data = get_recipe(spec["truth"]).data()
    else:
        data = nv.data.digits(resolution=8)
    space = nv.CellSpace()
    archs = [space[i] for i in spec["indices"]]
    out = {}
    if spec["kind"] == "nb201":  # NAS-Bench-201-sized networks, random 3x32x32 inputs
        g = torch.Generator().manual_seed(spec["seed"])
        fake = nv.data.from_tensors(torch.rand(200, 3, 32, 32, generator=g), np.arange(200) % 10, num_classes=10)
        out["scores"], out["seconds"] = {}, {}
        for name in spec["proxies"]:
            est = nv.estimators.ZeroCost(name, fake, channels=16, cells_per_stage=5, seed=spec["seed"])
            est.evaluate(space.sample(seed=10_000))  # first-call overheads (and a reference sample), not timed
            start = time.perf_counter()
            results = est.evaluate_many(archs)
            out["seconds"][name] = time.perf_counter() - start
            out["scores"][name] = [r.score if r.ok else float("nan") for r in results]
    elif spec["kind"] == "train":
        est = nv.estimators.Training(data, epochs=spec["epochs"], channels=spec["channels"], device="cpu",
                                     seed=spec["seed"])
        start = time.perf_counter()
        results = est.evaluate_many(archs)
        out["seconds"] = time.perf_counter() - start
        out["scores"] = {"train": [r.score if r.ok else float("nan") for r in results]}
    else:
        names = spec["proxies"]
        est = nv.estimators.ZeroCost(names[0], data, batch_size=spec["batch_size"], channels=spec["channels"],
                                     seed=spec["seed"])
        warm = [space.sample(seed=10_000 + k) for k in range(2)]  # first-call overheads, not timed
        out["baseline_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        if spec["kind"] == "single":
            start = time.perf_counter()
            est.evaluate_many(warm)  # population proxies also score their reference sample here
            out["setup_s"] = time.perf_counter() - start
            start = time.perf_counter()
            results = est.evaluate_many(archs)
            out["seconds"] = time.perf_counter() - start
            out["scores"] = {names[0]: [r.score if r.ok else float("nan") for r in results],
                             "flags": [float(bool(r.metrics.get("degenerate"))) for r in results]}
            out["degenerate"] = sum(bool(r.metrics.get("degenerate")) for r in results)
            out["failed"] = [f"{a}: {r.error}" for a, r in zip(archs, results) if not r.ok][:3]
        else:  # several proxies from shared passes
            for a in warm:
                est.scores(a, names)
            scores = {n: [] for n in names}
            start = time.perf_counter()
            for a in archs:
                for n, v in est.scores(a, names).items():
                    scores[n].append(v)
            out["seconds"] = time.perf_counter() - start
            out["scores"] = scores
    usage = resource.getrusage(resource.RUSAGE_SELF)
    out["maxrss_mb"] = usage.ru_maxrss / 1024
    out["cpu_s"] = usage.ru_utime + usage.ru_stime  # the whole process: start-up included
    return out


# -- driver side (no torch here) -------------------------------------------------------------------
def _launch(spec: dict) -> subprocess.Popen:
    # PASSIVE: idle OpenMP threads sleep instead of spinning, which matters on a shared machine
    env = dict(os.environ, OMP_NUM_THREADS=str(spec["threads"]), MKL_NUM_THREADS=str(spec["threads"]))
    env.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    return subprocess.Popen([sys.executable, HERE, "--worker", json.dumps(spec)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env)


def _collect(proc: subprocess.Popen) -> dict:
    stdout, stderr = proc.communicate()
    if proc.returncode != 0:
        raise RuntimeError(f"worker failed ({proc.returncode}):\n{stderr[-3000:]}")
    return json.loads(stdout.strip().splitlines()[-1])


def _run(spec: dict) -> dict:
    return _collect(_launch(spec))


def _run_parallel(spec: dict, indices, workers: int) -> dict:
    """Split ``indices`` over ``workers`` concurrent one-thread processes; wall time and summed peak RSS."""
    chunks = [list(indices[w::workers]) for w in range(workers)]
    start = time.perf_counter()
    procs = [_launch(dict(spec, indices=c, threads=1)) for c in chunks]
    outs = [_collect(p) for p in procs]
    wall = time.perf_counter() - start
    scores = {}
    for name in outs[0]["scores"]:
        merged = np.empty(len(indices))
        for w, o in enumerate(outs):
            merged[w::workers] = o["scores"][name]
        scores[name] = merged
    if isinstance(outs[0]["seconds"], dict):  # per proxy
        seconds = {k: max(o["seconds"][k] for o in outs) for k in outs[0]["seconds"]}
    else:
        seconds = max(o["seconds"] for o in outs)
    return {"wall": wall, "seconds": seconds, "scores": scores, "setup_s": max(o.get("setup_s", 0.0) for o in outs),
            "cpu_s": sum(o["cpu_s"] for o in outs),
            "maxrss_mb": sum(o["maxrss_mb"] for o in outs), "worker_rss_mb": [o["maxrss_mb"] for o in outs],
            "degenerate": sum(o.get("degenerate", 0) for o in outs),
            "failed": [f for o in outs for f in o.get("failed", [])][:3]}


def _load():
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.2f} {five:.2f} {fifteen:.2f}"


def _spearman(a, b) -> float:
    from scipy.stats import spearmanr

    a, b = np.asarray(a, float), np.asarray(b, float)
    keep = np.isfinite(a) & np.isfinite(b)
    if keep.sum() < 3:
        return float("nan")
    return float(spearmanr(a[keep], b[keep]).statistic)


def _references(indices, args) -> dict:
    """name -> accuracies of the cells ``indices`` (only the references that exist)."""
    import nasviz as nv

    space = nv.CellSpace()
    archs = [space[i] for i in indices]
    refs = {}
    try:
        available = nv.bench.available()
    except Exception as err:  # the tables may not be there yet
        print(f"# nv.bench unavailable ({type(err).__name__}: {err})")
        available = ()
    if "digits201" in available:
        try:
            bench = nv.bench.load("digits201")
            refs["digits201"] = np.asarray(bench.query_many(archs), float)
        except Exception as err:
            print(f"# digits201 present but not queried: {type(err).__name__}: {err}")
    else:
        print("# digits201 table not shipped yet: no Spearman against it")
    if getattr(args, "truth_table", None) is not None:  # a partial table: NaN (left out) where it has no run yet
        table = args.truth_table
        held = [k for k, a in enumerate(archs) if a in table]
        refs[args.truth] = np.full(len(archs), np.nan)
        refs[args.truth][held] = table.query_many([archs[k] for k in held])
    if "nb201-12epoch" in available:
        try:
            bench = nv.bench.load("nb201-12epoch")
            refs[NB201_REF] = np.asarray(bench.query_many(archs, "cifar10_val_acc"), float)
        except Exception as err:
            print(f"# nb201-12epoch not queried: {type(err).__name__}: {err}")
    return refs


def _training_reference(args, nv, indices, base, refs) -> str:
    """Add the Training reference to ``refs``; the note to print about it."""
    if args.train_epochs <= 0:
        return ""
    if not hasattr(nv.estimators, "Training"):
        print("# nv.estimators.Training not available: no training reference")
        return ""
    try:
        t = _run_parallel(dict(base, kind="train", epochs=args.train_epochs), indices, args.workers)
    except Exception as err:
        print(f"# training reference failed: {type(err).__name__}: {err}")
        return ""
    acc = refs[f"train {args.train_epochs}ep"] = t["scores"]["train"]
    return (f"# training reference: nv.estimators.Training, {args.train_epochs} epochs, same cells, "
            f"{args.channels} channels, {args.workers} processes: {t['wall']:.0f} s; val acc "
            f"{np.nanmin(acc):.3f}..{np.nanmax(acc):.3f} (median {np.nanmedian(acc):.3f})")


def _vote_pairs(scores: dict, truth) -> float:
    """Abdelfattah et al.'s statistic: the share of ordered pairs (truths differ) the majority vote orders right."""
    truth = np.asarray(truth, float)
    keep = np.isfinite(truth)
    diff = truth[keep][:, None] - truth[keep][None, :]
    ahead = sum((np.asarray(scores[m], float)[keep][:, None] - np.asarray(scores[m], float)[keep][None, :] > 0)
                .astype(int) for m in POPULATION["vote"])
    sign = np.where(ahead >= len(POPULATION["vote"]) / 2, 1.0, -1.0)
    pairs = diff != 0
    return float(np.mean((sign * diff)[pairs] > 0))


def _proxy_table(args, nv, rows: dict, refs: dict) -> None:
    print()
    print(f"per proxy: {args.sample} cells split over {args.workers} one-thread processes (cells/s: scoring loop of "
          f"the slower process, start-up and reference sample excluded; peak MB: resident memory of the larger "
          f"process, torch and data included; published: Spearman on NAS-Bench-201 CIFAR-10, 200 epochs)")
    ref_names = list(refs)
    header = f"{'proxy':<22} {'cells/s':>8} {'ms/cell':>8} {'peak MB':>8} {'degen.':>6}" + "".join(
        f" {('rho ' + n):>18}" for n in ref_names) + f" {'published':>11}"
    print(header)
    print("-" * len(header))
    for name, r in rows.items():
        s = np.asarray(r["scores"][name], float)
        rate = args.sample / r["seconds"]
        line = f"{name:<22} {rate:8.1f} {1e3 / rate:8.2f} {max(r['worker_rss_mb']):8.0f} {r['degenerate']:6d}"
        line += "".join(f" {_spearman(s, refs[n]):18.3f}" for n in ref_names) + f" {PUBLISHED.get(name, ''):>11}"
        print(line)
        if r["failed"]:
            print(f"  failed: {r['failed']}")
    for name, parts in POPULATION.items():  # the papers' way: ranked within the sample
        if name in rows and all(p in rows for p in parts):
            values = {p: rows[p]["scores"][p] for p in parts}
            flags = {p: rows[p]["scores"]["flags"] > 0 for p in parts}
            s = nv.estimators.zero_cost.population_scores(name, values, flags)
            line = f"{name + ' within sample':<22} {'':>8} {'':>8} {'':>8} {'':>6}"
            print(line + "".join(f" {_spearman(s, refs[n]):18.3f}" for n in ref_names))
    if all(p in rows for p in POPULATION["vote"]):
        pairs = {m: rows[m]["scores"][m] for m in POPULATION["vote"]}
        print("vote as its paper measures it (share of cell pairs the majority vote of synflow, jacob_cov, snip "
              "orders like the truth; published 0.817): " + ", ".join(f"{n} {_vote_pairs(pairs, refs[n]):.3f}"
                                                                   for n in ref_names))
    setups = {n: r["setup_s"] for n, r in rows.items() if n in POPULATION}
    if setups:
        print("reference sample (64 cells, scored once per process, in the untimed warm-up): "
              + ", ".join(f"{n} {t:.1f} s" for n, t in setups.items()))
    print("('degen.' = cells given the proxy's floor: the disconnected ones; nb201-12epoch is the 12-epoch table, "
          "the papers used the 200-epoch one)")


def _nb201_section(args, nv, indices, base, refs) -> None:
    """The published setting's network size: the proxies that need no images (and MeCo's one random image)."""
    names = [p for p in args.nb201_proxies if p in nv.estimators.ZeroCost.available()]
    if NB201_REF not in refs or not names:
        return
    big = _run_parallel(dict(base, kind="nb201", proxies=names), indices, args.workers)
    print()
    print(f"NAS-Bench-201-sized networks (16 channels, 5 cells per stage, 3x32x32 uniform random inputs, batch "
          f"{args.batch_size}; {args.workers} processes; {_load()}):")
    for name in names:
        print(f"  {name:<10} rho {NB201_REF} = {_spearman(big['scores'][name], refs[NB201_REF]):6.3f}   "
              f"{args.sample / big['seconds'][name]:7.1f} cells/s   published {PUBLISHED.get(name, '-')}")
    if "params" in names:
        bench = nv.bench.load("nb201-12epoch")
        table_params = np.asarray(bench.query_many([nv.CellSpace()[i] for i in indices], "params"), float)
        same = int(np.sum(table_params == big["scores"]["params"]))
        print(f"  parameter counts equal to the table's for {same} of {len(indices)} cells")


def _trio_section(args, indices, base, rows) -> None:
    print()
    trio = list(args.trio)
    one = _run(dict(base, kind="trio", proxies=trio))
    par = _run_parallel(dict(base, kind="trio", proxies=trio), indices, args.workers)
    separate = sum(rows[p]["seconds"] for p in trio) if all(p in rows for p in trio) else 0
    print(f"{' + '.join(trio)} on {args.sample} cells ({_load()}):")
    if separate:
        print(f"  three estimators, {args.workers} processes x 1 thread: {separate:7.2f} s")
    print(f"  shared passes, 1 process x {args.threads} threads:      {one['seconds']:7.2f} s   "
          f"peak {one['maxrss_mb']:.0f} MB")
    print(f"  shared passes, {args.workers} processes x 1 thread:      {par['seconds']:7.2f} s   "
          f"peak {par['maxrss_mb']:.0f} MB (sum of workers); start-up {par['wall'] - par['seconds']:.1f} s")
    proj_one = one["seconds"] / args.sample * N_CELLS
    proj_par = par["seconds"] / args.sample * N_CELLS + (par["wall"] - par["seconds"])
    print(f"projected for all {N_CELLS:,} cells: {proj_one:.0f} s with 1 process x {args.threads} threads, "
          f"{proj_par:.0f} s with {args.workers} processes, start-up included (goal: <= 60 s, <= 1 GB)")


def _sample_section(args, nv, proxies, indices, base) -> None:
    rows = {}
    for name in proxies:  # the 2-core budget as --workers one-thread processes: fastest for small networks
        rows[name] = _run_parallel(dict(base, kind="single", proxies=[name]), indices, args.workers)
        r = rows[name]
        print(f"#   {name:<10} {args.sample / r['seconds']:8.1f} cells/s  peak {max(r['worker_rss_mb']):.0f} MB per "
              f"process  ({_load()})", flush=True)
    refs = _references(indices, args)
    train_note = _training_reference(args, nv, indices, base, refs)
    _proxy_table(args, nv, rows, refs)
    if train_note:
        print(train_note)
    print(f"# {_load()}")
    _nb201_section(args, nv, indices, base, refs)
    _trio_section(args, indices, base, rows)


def _truth_sample(args, nv, rng):
    """``--sample`` representatives of connected classes with every seed in ``--truth``'s journal; sets
    ``args.truth_table`` (the journal as a partial table, its mean over seeds) and the recipe's width."""
    from nasviz.bench.build import journal_table
    from nasviz.bench.build.recipes import get_recipe

    recipe = get_recipe(args.truth)
    bench = journal_table(args.truth, journal=args.journal, partial=True, seeds=args.truth_seeds)
    space = bench.space
    class_of, reps = space.canonical_classes()
    final = np.asarray(bench.array("val_acc"))[:, :, -1]
    held = np.array([space.index(a) for a in bench.archs()])
    ok = [int(i) for r, i in enumerate(held) if i == reps[class_of[i]] and np.isfinite(final[r]).all()
          and space.is_connected(space[int(i)])]
    if len(ok) < args.sample:
        print(f"# only {len(ok)} connected classes have every seed in the journal: the sample is all of them")
    indices = sorted(int(i) for i in rng.choice(ok, size=min(args.sample, len(ok)), replace=False))
    args.sample = len(indices)
    args.truth_table = bench
    args.channels = recipe.channels
    seeds = recipe.seeds if args.truth_seeds is None else args.truth_seeds
    return indices, (f"{args.truth}'s task ({recipe.data().input_shape}), {len(ok):,} connected classes with "
                     f"all {len(seeds)} seeds {list(seeds)} in its journal")


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sample", type=int, default=200, help="cells in the seeded sample (default 200)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the sample and of the proxies")
    parser.add_argument("--threads", type=int, default=2, help="torch threads of the one-process runs")
    parser.add_argument("--workers", type=int, default=2, help="one-thread processes of the parallel runs")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--channels", type=int, default=8)
    parser.add_argument("--train-epochs", type=int, default=2,
                        help="epochs of the Training reference on the sample; 0 skips it")
    parser.add_argument("--proxies", default=None, help="comma-separated proxies (default: all)")
    parser.add_argument("--nb201-proxies", default=",".join(NB201_CHEAP),
                        help="comma-separated proxies on NAS-Bench-201-sized networks, 'all', or 'none' "
                             f"(default: {','.join(NB201_CHEAP)}: the ones that need no minibatch there)")
    parser.add_argument("--all", action="store_true", help="score all 15,625 cells with naswot + synflow + snip")
    parser.add_argument("--trio", default=",".join(TRIO), help="the three proxies of --all and of the shared-pass "
                        "timing (default naswot,synflow,snip)")
    parser.add_argument("--per-class", action="store_true",
                        help="with --all: one network per canonical class, its score given to every member")
    parser.add_argument("--all-only", action="store_true", help="with --all: skip the sample measurements")
    parser.add_argument("--save", default=None, help="with --all: write the scores to this .npz file")
    parser.add_argument("--truth", default=None,
                        help="a table nasviz builds (e.g. shifted201): sample its connected classes with every "
                             "seed in its journal, score them on its task and width, rank against its mean")
    parser.add_argument("--journal", default=None, help="with --truth: its build journal (default its own)")
    parser.add_argument("--truth-seeds", type=int, nargs="+", default=None, metavar="S",
                        help="with --truth: the classes complete in these seeds, their mean (default the recipe's)")
    parser.add_argument("--worker", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    args.nb201_proxies = {"none": [], "all": None}.get(args.nb201_proxies, args.nb201_proxies.split(","))
    args.trio = tuple(args.trio.split(","))
    if args.per_class and not args.all:
        parser.error("--per-class goes with --all")
    if args.worker is not None:
        print(json.dumps(_worker(json.loads(args.worker))))
        return

    import nasviz as nv

    proxies = nv.estimators.ZeroCost.available() if args.proxies is None else tuple(args.proxies.split(","))
    if args.nb201_proxies is None:
        args.nb201_proxies = list(nv.estimators.ZeroCost.available())
    rng = np.random.default_rng(args.seed)
    task = "digits 8x8"
    if args.truth:
        indices, task = _truth_sample(args, nv, rng)
    else:
        indices = sorted(int(i) for i in rng.choice(N_CELLS, size=args.sample, replace=False))
    base = {"indices": indices, "threads": args.threads, "seed": args.seed, "batch_size": args.batch_size,
            "channels": args.channels, "truth": args.truth}
    print(f"# zero-cost proxies: {args.sample} seeded CellSpace cells (seed {args.seed}), {task}, "
          f"batch {args.batch_size}, {args.channels} channels, {args.workers} worker processes; "
          f"{os.cpu_count()} CPUs; {_load()}")

    if not (args.all and args.all_only):
        _sample_section(args, nv, proxies, indices, base)

    if args.all:
        trio = list(args.trio)
        print()
        if args.per_class:
            class_of, reps = nv.CellSpace().canonical_classes()
            todo, what = [int(r) for r in reps], f"one network for each of the {len(reps):,} canonical classes"
        else:
            todo, what = list(range(N_CELLS)), "one network per cell"
        print(f"scoring all {N_CELLS:,} cells with {' + '.join(trio)}, {what}, {args.workers} processes x 1 thread "
              f"({_load()}) ...", flush=True)
        full = _run_parallel(dict(base, kind="trio", proxies=trio), todo, args.workers)
        if args.per_class:  # every member gets its class's score
            full["scores"] = {n: np.asarray(v)[class_of] for n, v in full["scores"].items()}
        import resource

        parent = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        finite = {n: int(np.isfinite(full["scores"][n]).sum()) for n in trio}
        print(f"all {N_CELLS:,} cells: {full['wall']:.1f} s wall; peak memory {full['maxrss_mb'] + parent:.0f} MB "
              f"(workers {', '.join(f'{m:.0f}' for m in full['worker_rss_mb'])} MB + this process {parent:.0f} MB); "
              f"finite scores {finite}; {_load()}")
        print(f"  CPU time of the workers: {full['cpu_s']:.0f} s, i.e. about {full['cpu_s'] / args.workers:.0f} s of "
              f"wall time on {args.workers} otherwise idle cores (the machine is shared: see the load average)")
        all_refs = _references(list(range(N_CELLS)), args)
        for n in trio:
            print(f"  {n:<8}" + "".join(f"  rho {r} = {_spearman(full['scores'][n], v):.3f}"
                                        for r, v in all_refs.items()))
        if args.save:
            np.savez_compressed(args.save, index=np.arange(N_CELLS), **full["scores"])
            print(f"  scores written to {args.save}")
        ok = full["wall"] <= 60 and full["maxrss_mb"] + parent <= 1024
        print(f"goal (<= 60 s and <= 1024 MB on 2 cores): {'met' if ok else 'NOT met'}")


if __name__ == "__main__":
    main()
