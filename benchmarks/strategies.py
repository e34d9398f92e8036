"""Search strategies on a table: nasviz's strategies against Optuna's samplers, over many seeds.

Every nasviz strategy that works on a final-epoch-only table (random, evolution, local, bo,
reinforce, mcts, and the presets ``bo-its``: bo with independent Thompson sampling, and
``bananas``: bo with BANANAS' ensemble, path encoding, Thompson sampling and a refit every 10
results, see ``PRESETS``) runs through ``nv.Search`` with the ``Tabular`` estimator; Optuna's TPE and
random samplers (and its GP sampler, when the installed Optuna handles categorical parameters
with it) run through Optuna's ask/tell API with one ``suggest_categorical`` per edge, on the same
table and metric. Strategies that need per-epoch values (exhaustive enumerates the whole table,
successive halving and hyperband need intermediate epochs) are skipped with a printed reason.

One run of ``--budget`` evaluations per seed gives every smaller budget from its incumbent curve.
As in ``nv.Search``, a candidate already evaluated in a run is answered from the run's cache and
does not count towards the budget, for the Optuna samplers too (a run that keeps asking for
evaluated candidates stops early, its incumbent carried to the end of the budget; the table
counts such runs).

Printed per table and metric: for each strategy, mean and standard deviation of the regret
(optimum minus best so far, in accuracy points) at budgets 25/50/100/200, the share of seeds that
reach the optimum within the budget, and the mean number of evaluations to reach the optimum and
the top 0.1% of the table (over the seeds that reach it, with how many did), next to random
search's expected evaluations from the table size (sampling without replacement: (N+1)/(m+1) for
m cells at or above the target). Then the best strategy at each budget, the ratio of evaluations
to the top 0.1% (best nasviz strategy over random search), and where nasviz's best strategy and
Optuna's best sampler each win.

Usage::

    python benchmarks/strategies.py                 # 100 seeds (bo: 20, gp: 10), 2 processes
    python benchmarks/strategies.py --quick         # 10 seeds (bo and gp: 5)
    python benchmarks/strategies.py --strategies random,evolution,optuna-tpe --seeds 30
    python benchmarks/strategies.py --tables nb201-12epoch --strategies bananas,optuna-tpe --seeds 20 --workers 1

Measured on nb201-12epoch (``cifar10_val_acc``: 15,625 cells, optimum 84.89%), one process on a
2-core machine that other jobs kept busy (load average about 5), so s/run is slower than on an idle
core. Seeds 0-19, the seeds on which the ``bananas`` preset's settings (10 layers, refit every 10)
were chosen, with ``OMP_WAIT_POLICY=PASSIVE OMP_NUM_THREADS=1 python benchmarks/strategies.py --tables
nb201-12epoch --strategies random,evolution,bo,bo-its,bananas,optuna-tpe --seeds 20 --bo-seeds 20
--workers 1`` (683 s)::

    strategy       seeds      regret@25      regret@50     regret@100     regret@200  opt<=200   evals→opt (n)   evals→top.1% (n)  s/run
    random            20     3.41 ±1.86     1.61 ±0.61     1.25 ±0.46     0.95 ±0.31      0.00           - (0)            158 (2)   0.07
    evolution         20     2.73 ±1.85     0.77 ±0.60     0.30 ±0.30     0.16 ±0.20      0.35          89 (7)            68 (19)   0.10
    bo                20     1.39 ±1.58     0.66 ±1.15     0.33 ±0.66     0.19 ±0.34      0.75         62 (15)            38 (15)   7.94
    bo-its            20     2.35 ±1.88     0.75 ±0.60     0.23 ±0.28     0.05 ±0.10      0.75         93 (15)            65 (20)   5.40
    bananas           20     1.58 ±0.97     0.46 ±0.44     0.06 ±0.15     0.00 ±0.00      1.00         81 (20)            55 (20)  19.94
    optuna-tpe        20     1.74 ±1.26     0.75 ±0.71     0.17 ±0.22     0.05 ±0.19      0.90         96 (18)            53 (19)   0.67

and on fresh seeds 20-39 (the same command with ``--strategies bananas,optuna-tpe --first-seed 20``,
364 s)::

    strategy       seeds      regret@25      regret@50     regret@100     regret@200  opt<=200   evals→opt (n)   evals→top.1% (n)  s/run
    bananas           20     2.03 ±1.16     0.71 ±0.50     0.38 ±0.34     0.14 ±0.29      0.80        112 (16)            72 (16)  16.73
    optuna-tpe        20     1.72 ±0.82     0.58 ±0.44     0.31 ±0.40     0.11 ±0.26      0.80        104 (16)            57 (18)   1.45

So the goal (nasviz's best strategy ahead of TPE at 25, 50, 100 and 200 evaluations) is not met. On
the tuning seeds every budget went to nasviz (bo 1.39 at 25, bananas 0.46, 0.06, 0.00 against TPE's
1.74, 0.75, 0.17, 0.05), but on fresh seeds TPE leads bananas at every budget (1.72, 0.58, 0.31, 0.11
against 2.03, 0.71, 0.38, 0.14). Over all 40 seeds the two are level within noise (bananas 1.81,
0.59, 0.22, 0.07; TPE 1.73, 0.67, 0.24, 0.08; a mean's standard error is its std / 4.5 for 20 seeds,
/ 6.3 for 40). Every model-based strategy, and TPE, beats random search clearly from 50 evaluations
on; evolution is not far behind them (level with bo at 100).

The machine is shared: the script prints the load average next to its timings.
"""

from __future__ import annotations

import argparse
import concurrent.futures as cf
import math
import os
import time
import warnings

import numpy as np

NASVIZ = ("random", "evolution", "local", "bo", "reinforce", "mcts")
#: nasviz strategies with settings other than their defaults: name -> (registry name, keyword arguments)
PRESETS = {
    "bo-its": ("bo", {"acquisition": "its"}),
    "bananas": ("bo", {"surrogate": "ensemble", "encoding": "path", "acquisition": "its", "refit_every": 10}),
}
SKIPPED = {
    "exhaustive": "enumerates every cell in a fixed order; its curve is the table order, not a search",
    "sh": "needs per-epoch values (lower fidelities); the table holds the final epoch only",
    "hyperband": "needs per-epoch values (lower fidelities); the table holds the final epoch only",
}
OPTUNA = ("optuna-tpe", "optuna-random", "optuna-gp")
BUDGETS = (25, 50, 100, 200)
SLOW = ("bo", "bo-its", "bananas", "optuna-gp")

_CACHE: dict = {}  # per worker process: table name -> (bench, {metric: Tabular})


def _table(name, metric):
    import nasviz as nv

    if name not in _CACHE:
        _CACHE[name] = (nv.bench.load(name), {})
    bench, ests = _CACHE[name]
    if metric not in ests:
        ests[metric] = nv.estimators.Tabular(bench, metric=metric)
    return bench, ests[metric]


def _run_nasviz(name, table, metric, seed, budget):
    import nasviz as nv

    bench, est = _table(table, metric)
    base, kwargs = PRESETS.get(name, (name, {}))
    strategy = nv.strategies.get(base, bench.space, seed=seed, **kwargs)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # "asked for already-evaluated candidates ... stops here"
        history = nv.Search(bench.space, strategy, est, budget=budget, seed=seed).run(progress=False)
    _, best = history.incumbent()
    return best


def _sampler(name, seed):
    import optuna

    if name == "optuna-tpe":
        return optuna.samplers.TPESampler(seed=seed)
    if name == "optuna-random":
        return optuna.samplers.RandomSampler(seed=seed)
    return optuna.samplers.GPSampler(seed=seed)


def _run_optuna(name, table, metric, seed, budget, max_asks_factor=20):
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    if name == "optuna-gp":
        import torch

        torch.set_num_threads(1)  # two worker processes on two cores
    bench, est = _table(table, metric)
    space = bench.space
    decisions = space.decisions
    study = optuna.create_study(direction="maximize", sampler=_sampler(name, seed))
    seen: dict = {}
    best, scores = -math.inf, []
    asks = 0
    while len(scores) < budget and asks < max_asks_factor * budget:
        asks += 1
        trial = study.ask()
        ops = tuple(trial.suggest_categorical(f"edge{k}", list(d.choices)) for k, d in enumerate(decisions))
        if ops in seen:  # a repeat: answered from the cache, outside the budget (as nv.Search does)
            study.tell(trial, seen[ops])
            continue
        result = est.evaluate(space.from_decisions(ops))
        score = float(result.score) if result.ok else float("nan")
        seen[ops] = score if result.ok else -1.0
        study.tell(trial, seen[ops])
        if result.ok:
            best = max(best, score)
        scores.append(best if best > -math.inf else float("nan"))
    return np.array(scores, dtype=float)


def _job(args):
    name, table, metric, seed, budget = args
    start = time.perf_counter()
    run = _run_optuna if name.startswith("optuna-") else _run_nasviz
    best = run(name, table, metric, seed, budget)
    return args, np.asarray(best, dtype=float), time.perf_counter() - start


def gp_handles_categorical() -> tuple[bool, str]:
    """Whether Optuna's GPSampler samples categorical parameters jointly (not by falling back)."""
    import optuna

    if not hasattr(optuna.samplers, "GPSampler"):
        return False, f"optuna {optuna.__version__} has no GPSampler"
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            study = optuna.create_study(direction="maximize", sampler=optuna.samplers.GPSampler(seed=0,
                                        n_startup_trials=3))
            for _ in range(6):
                t = study.ask()
                x = [t.suggest_categorical(f"e{k}", ["a", "b", "c"]) for k in range(3)]
                study.tell(t, float(x.count("a")))
    except Exception as err:  # noqa: BLE001 - any failure means: skip it
        return False, f"GPSampler failed on categorical parameters in optuna {optuna.__version__}: {err}"
    fallback = [w for w in caught if "independent" in str(w.message).lower()]
    if fallback:
        return False, f"GPSampler falls back to independent sampling for categoricals in optuna " \
                      f"{optuna.__version__}"
    return True, f"optuna {optuna.__version__} GPSampler handles categorical parameters"


# -- summary -------------------------------------------------------------------------------------------
def _first_reach(curve, target):
    hit = np.nonzero(curve >= target - 1e-9)[0]
    return int(hit[0]) + 1 if len(hit) else None


def summarize(curves, optimum, top, budgets):
    """Per strategy: regret mean/std per budget, reach stats. ``curves``: (seeds, budget) incumbents."""
    c = np.array(curves, dtype=float)
    row = {"n": len(c), "budget": c.shape[1]}
    for b in budgets:
        if b > c.shape[1]:
            row[b] = (float("nan"), float("nan"))
            continue
        reg = 100.0 * (optimum - c[:, b - 1])
        row[b] = (float(np.nanmean(reg)), float(np.nanstd(reg)))
    for key, target in (("opt", optimum), ("top", top)):
        hits = [h for h in (_first_reach(x, target) for x in c) if h is not None]
        row[key] = (float(np.mean(hits)) if hits else float("nan"), len(hits))
    return row


def _pad(curve, budget):
    if len(curve) >= budget:
        return curve[:budget], False
    last = curve[-1] if len(curve) else np.nan
    return np.concatenate([curve, np.full(budget - len(curve), last)]), True


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--seeds", type=int, default=100)
    p.add_argument("--bo-seeds", type=int, default=20,
                   help="seeds for bo, bo-its and bananas (about 15-40 ms per ask)")
    p.add_argument("--gp-seeds", type=int, default=5, help="seeds for Optuna's GPSampler (slow per ask)")
    p.add_argument("--gp-budget", type=int, default=50,
                   help="evaluations per GPSampler run (its asks slow down with the history: ~70 s for 60)")
    p.add_argument("--budget", type=int, default=200, help="evaluations per run (the largest budget)")
    p.add_argument("--strategies", default=",".join(NASVIZ + tuple(PRESETS) + OPTUNA),
                   help="comma-separated: " + ", ".join(NASVIZ + tuple(PRESETS) + OPTUNA)
                   + " (bo-its, bananas: bo with the settings in PRESETS)")
    p.add_argument("--tables", default=None,
                   help="comma-separated tables (default: nb201-12epoch, and digits201 when it ships)")
    p.add_argument("--metric", default="cifar10_val_acc", help="nb201-12epoch's column (digits201: its val_acc)")
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--first-seed", type=int, default=0,
                   help="seeds are first-seed, first-seed + 1, ... (other seeds than the ones settings were tuned on)")
    p.add_argument("--quick", action="store_true", help="10 seeds (bo and gp: 5)")
    a = p.parse_args(argv)
    if a.quick:
        a.seeds, a.bo_seeds, a.gp_seeds = 10, 5, 2
    import nasviz as nv

    names = [s.strip() for s in a.strategies.split(",") if s.strip()]
    for s in names:
        if s in SKIPPED:
            print(f"skip {s}: {SKIPPED[s]}")
    names = [s for s in names if s not in SKIPPED]
    bad = [s for s in names if s not in NASVIZ + tuple(PRESETS) + OPTUNA]
    if bad:
        p.error(f"unknown strategies {bad}; accepted: {', '.join(NASVIZ + tuple(PRESETS) + OPTUNA)}")
    for s in SKIPPED:
        if s not in names and s in nv.strategies.available():
            print(f"skip {s}: {SKIPPED[s]}")
    if "optuna-gp" in names:
        ok, why = gp_handles_categorical()
        print(("use optuna-gp: " if ok else "skip optuna-gp: ") + why)
        if not ok:
            names.remove("optuna-gp")
    budgets = tuple(b for b in BUDGETS if b <= a.budget) or (a.budget,)
    if budgets[-1] != a.budget:
        budgets = budgets + (a.budget,)
    tables = ["nb201-12epoch"] + (["digits201"] if "digits201" in nv.bench.available() else [])
    if a.tables is not None:
        tables = [t.strip() for t in a.tables.split(",") if t.strip()]
        missing = [t for t in tables if t not in nv.bench.available()]
        if missing:
            p.error(f"tables {missing} are not shipped; available: {', '.join(nv.bench.available())}")
    elif "digits201" not in tables:
        print("digits201: not in nv.bench.available(); nb201-12epoch only")

    def n_seeds(s):
        return a.bo_seeds if s in ("bo",) + tuple(PRESETS) else a.gp_seeds if s == "optuna-gp" else a.seeds

    def run_budget(s):
        return min(a.budget, a.gp_budget) if s == "optuna-gp" else a.budget

    # --metric is NAS-Bench-201's column; digits201 is judged by its own default metric (val_acc)
    metric_of = {t: a.metric if t == "nb201-12epoch" else nv.bench.load(t).default_metric for t in tables}
    jobs = [(s, t, metric_of[t], seed, run_budget(s)) for t in tables for s in names
            for seed in range(a.first_seed, a.first_seed + n_seeds(s))]
    # slow ones first, so the two processes finish together
    jobs.sort(key=lambda j: j[0] not in SLOW)
    curves: dict = {}
    times: dict = {}
    short: dict = {}
    t0 = time.perf_counter()
    with cf.ProcessPoolExecutor(max_workers=a.workers) as pool:
        for (s, t, m, seed, budget), best, dt in pool.map(_job, jobs, chunksize=1):
            curve, was_short = _pad(best, budget)
            curves.setdefault((t, m, s), []).append(curve)
            times.setdefault((t, m, s), []).append(dt)
            short[(t, m, s)] = short.get((t, m, s), 0) + was_short
    wall = time.perf_counter() - t0

    results = {}
    for t in tables:
        metric = metric_of[t]
        bench, _ = _table(t, metric)
        col = bench.to_dataframe()[metric].to_numpy(dtype=float)
        col = col[np.isfinite(col)]
        optimum = float(bench.optimum(metric)[1])
        n = len(col)
        k = max(1, math.ceil(0.001 * n))
        top = float(np.sort(col)[::-1][k - 1])
        m_opt = int(np.sum(col >= optimum - 1e-9))
        m_top = int(np.sum(col >= top - 1e-9))
        rand_opt, rand_top = (n + 1) / (m_opt + 1), (n + 1) / (m_top + 1)
        print()
        print(f"== {t}, {metric}: {n} cells, optimum {100 * optimum:.2f}% ({m_opt} cell(s)); top 0.1% = "
              f">= {100 * top:.2f}% ({m_top} cells); regret in accuracy points, mean ± std over seeds")
        print(f"   random search, expected evaluations (without replacement, (N+1)/(m+1)): "
              f"optimum {rand_opt:.0f}, top 0.1% {rand_top:.0f}")
        head = f"{'strategy':<14}{'seeds':>6}" + "".join(f"{'regret@' + str(b):>15}" for b in budgets)
        head += f"{'opt<=' + str(a.budget):>10}{'evals→opt (n)':>16}{'evals→top.1% (n)':>19}{'s/run':>7}"
        print(head)
        for s in names:
            key = (t, metric, s)
            row = summarize(curves[key], optimum, top, budgets)
            results[(t, s)] = row
            line = f"{s:<14}{row['n']:>6}" + "".join(
                f"{row[b][0]:>9.2f} ±{row[b][1]:>4.2f}" if b <= row["budget"] else f"{'-':>15}" for b in budgets)
            frac = row["opt"][1] / row["n"]
            line += f"{frac:>10.2f}"
            for kk in ("opt", "top"):
                mean, hits = row[kk]
                cell = f"{mean:.0f} ({hits})" if hits else f"- (0)"
                line += f"{cell:>16}" if kk == "opt" else f"{cell:>19}"
            line += f"{np.mean(times[key]):>7.2f}"
            if short.get(key):
                line += f"  [{short[key]} run(s) stopped early: only repeats asked]"
            print(line)
        notes = [f"{s}: {n_seeds(s)} seeds" + (f", {run_budget(s)} evaluations per run (opt/top columns within "
                                                f"{run_budget(s)})" if run_budget(s) != a.budget else "")
                 for s in names if s in SLOW and (n_seeds(s) != a.seeds or run_budget(s) != a.budget)]
        if notes:
            print("   fewer seeds for the slow ones: " + "; ".join(notes))

        # closing lines
        nas = [s for s in names if s in NASVIZ + tuple(PRESETS)]
        opt = [s for s in names if s in OPTUNA]
        print()
        for b in budgets:
            ranked = sorted([s for s in names if b <= results[(t, s)]["budget"]], key=lambda s: results[(t, s)][b][0])
            print(f"best at {b:>3}: {ranked[0]} (regret {results[(t, ranked[0])][b][0]:.2f}); "
                  f"runner-up {ranked[1] if len(ranked) > 1 else '-'}")
        if nas:
            def reach_key(s, what="top"):  # most seeds reaching the target, then fewest evaluations
                mean, hits = results[(t, s)][what]
                return (-hits / results[(t, s)]["n"], mean if hits else math.inf)

            best_nas = min(nas, key=reach_key)
            mean, hits = results[(t, best_nas)]["top"]
            print(f"evaluations to the top 0.1%: best nasviz strategy {best_nas} {mean:.1f} "
                  f"({hits}/{results[(t, best_nas)]['n']} seeds reach it) / random search expected "
                  f"{rand_top:.1f} = {mean / rand_top:.3f}")
            if "random" in nas and results[(t, "random")]["top"][1]:
                rm, rh = results[(t, 'random')]["top"]
                print(f"   (measured random search: {rm:.1f} over {rh}/{results[(t, 'random')]['n']} seeds "
                      f"that reach it; ratio {mean / rm:.3f}; biased low: seeds that miss are left out)")
            best_nas = min(nas, key=lambda s: reach_key(s, "opt"))
            mo, ho = results[(t, best_nas)]["opt"]
            print(f"evaluations to the optimum: best nasviz strategy {best_nas} {mo:.1f} "
                  f"({ho}/{results[(t, best_nas)]['n']} seeds reach it) / "
                  f"random expected {rand_opt:.1f} = {mo / rand_opt:.3f}")
        if nas and opt:
            wins = []
            for b in budgets:
                bn = min(nas, key=lambda s: (math.isnan(results[(t, s)][b][0]), results[(t, s)][b][0]))
                bo_ = min(opt, key=lambda s: (math.isnan(results[(t, s)][b][0]), results[(t, s)][b][0]))
                rn, ro = results[(t, bn)][b][0], results[(t, bo_)][b][0]
                who = "nasviz" if rn < ro else "optuna" if ro < rn else "tie"
                wins.append(who)
                print(f"at {b:>3}: best nasviz {bn} {rn:.2f} vs best optuna {bo_} {ro:.2f} -> {who}")
            verdict = "yes" if all(w == "nasviz" for w in wins) else "no"
            print(f"best nasviz strategy beats Optuna's best sampler at every budget: {verdict} "
                  f"(nasviz wins {wins.count('nasviz')}/{len(wins)} budgets, optuna {wins.count('optuna')}, "
                  f"ties {wins.count('tie')})")
    load = os.getloadavg()
    print()
    print(f"wall {wall:.0f} s with {a.workers} processes; load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")


if __name__ == "__main__":
    main()
