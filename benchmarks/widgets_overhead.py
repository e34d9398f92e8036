"""SearchRunner overhead: a table search inside the widget versus ``Search.run`` alone.

Both run the same search (strategy, seed, table, metric, budget) in the same process,
alternating, after one warm-up of each (imports, the table, matplotlib's font cache):

- ``Search.run(progress=False)`` in the calling thread;
- ``SearchRunner``: Run clicked headless, the search in the widget's background thread with
  its callback, live plot, incumbent drawing, top-k table and progress bar (redrawn at most
  every 0.25 s, spaced further when a redraw is slow), timed from the click to the end of the
  thread (the last redraw included).

It checks that both found the same trials, and prints each repeat, the medians and their
ratio. The machine may be shared: the load average is printed beside the timings.

Usage::

    python benchmarks/widgets_overhead.py                    # evolution, 1,000 evaluations, 5 repeats
    python benchmarks/widgets_overhead.py --strategy random --budget 1000 --repeats 3
"""

from __future__ import annotations

import argparse
import os
import statistics
import time


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--strategy", default="evolution")
    parser.add_argument("--budget", type=int, default=1000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--table", default="nb201-12epoch")
    parser.add_argument("--metric", default="cifar10_val_acc")
    args = parser.parse_args(argv)

    os.environ.setdefault("MPLBACKEND", "Agg")
    import nasviz as nv

    bench = nv.bench.load(args.table)
    space = bench.space

    def plain():
        strategy = nv.strategies.get(args.strategy, space, seed=args.seed)
        est = nv.estimators.Tabular(bench, metric=args.metric)
        start = time.perf_counter()
        history = nv.Search(space, strategy, est, budget=args.budget, seed=args.seed).run(progress=False)
        return time.perf_counter() - start, history, None

    runner = nv.widgets.SearchRunner(space, bench=bench, strategy=args.strategy, budget=args.budget,
                                     seed=args.seed)
    runner.metric_dropdown.value = args.metric

    def widget():
        calls = runner._throttle.calls
        start = time.perf_counter()
        runner.run_button.click()
        if not runner.wait(600):
            raise RuntimeError("the widget's search did not finish in 600 s")
        if runner.error_:
            raise RuntimeError(runner.error_)
        return time.perf_counter() - start, runner.history, runner._throttle.calls - calls

    plain()
    widget()  # warm-up
    print(f"{args.strategy} on {args.table} ({args.metric}), {args.budget} evaluations, seed {args.seed}; "
          f"load average {os.getloadavg()[0]:.2f}")
    print(f"{'repeat':>6}  {'Search.run (s)':>14}  {'SearchRunner (s)':>16}  {'redraws':>7}  {'ratio':>5}")
    t_plain, t_widget = [], []
    for r in range(args.repeats):
        tp, hp, _ = plain()
        tw, hw, redraws = widget()
        if [(str(t.arch), t.score) for t in hp] != [(str(t.arch), t.score) for t in hw]:
            raise RuntimeError("the widget's search found other trials than Search.run")
        t_plain.append(tp)
        t_widget.append(tw)
        print(f"{r + 1:>6}  {tp:>14.3f}  {tw:>16.3f}  {redraws:>7}  {tw / tp:>5.2f}")
    mp, mw = statistics.median(t_plain), statistics.median(t_widget)
    print(f"median  {mp:>14.3f}  {mw:>16.3f}  {'':>7}  {mw / mp:>5.2f}")
    print(f"load average {os.getloadavg()[0]:.2f}")
    print(f"SearchRunner takes {mw:.2f} s for {args.budget} evaluations ({mw / mp:.2f}x Search.run alone, "
          f"+{mw - mp:.2f} s for its live display)")


if __name__ == "__main__":
    main()
