"""The course under Binder's limits: wall time and peak memory of each notebook.

Emulates mybinder.org on this machine:

1. a fresh virtual environment built from ``binder/`` alone: ``binder/requirements.txt``
   (its ``--extra-index-url`` lines dropped, because PyTorch's CPU index may be unreachable:
   ``torch==2.13.0`` is installed first from whatever index pip has), then ``binder/postBuild``;
2. each notebook executed top to bottom by that environment's ``jupyter nbconvert``, into a
   scratch folder (the committed notebooks are not touched), inside a memory cgroup limited
   to 2 GB (Binder's usual limit) when the machine lets us make one (cgroup v1 or v2, as
   root), with the process tree's resident memory sampled every 0.1 s either way.

It prints one row per notebook: wall seconds, the peak resident memory of the kernel alone
(the course's budget is 1 GB), the peak of the whole process tree (kernel, Dask workers,
nbconvert) and, under a cgroup, the cgroup's peak (which also counts the page cache of the
files read, as Binder's limit does). A notebook that fails, or that the limit kills, is
reported as such and the script exits non-zero.

Usage::

    python benchmarks/notebooks_binder.py                         # all of notebooks/ and the instructor assignments
    python benchmarks/notebooks_binder.py notebooks/00-welcome.ipynb --venv /tmp/binder-venv --reuse
    python benchmarks/notebooks_binder.py --limit-mb 0            # measure only, no cgroup
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CGROUP_V1 = Path("/sys/fs/cgroup/memory")
CGROUP_V2 = Path("/sys/fs/cgroup")


def build_venv(venv: Path) -> Path:
    """A fresh venv with what Binder would install; returns its bin folder."""
    if venv.exists():
        shutil.rmtree(venv)
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    requirements = [line.strip() for line in (ROOT / "binder" / "requirements.txt").read_text().splitlines()]
    torch = [r for r in requirements if r.startswith("torch")]
    rest = [r for r in requirements if r and not r.startswith(("#", "-", "torch"))]
    subprocess.run(pip + torch, check=True)  # the CPU build first, so nothing pulls a CUDA one
    subprocess.run(pip + rest, check=True)
    env = dict(os.environ, PATH=f"{venv / 'bin'}{os.pathsep}{os.environ['PATH']}", VIRTUAL_ENV=str(venv))
    subprocess.run(["bash", str(ROOT / "binder" / "postBuild")], cwd=ROOT, env=env, check=True)
    return venv / "bin"


class MemoryCgroup:
    """A memory cgroup with a limit (v1 or v2), or None-like when the machine does not allow one."""

    def __init__(self, limit_bytes: int):
        self.path = None
        self.version = None
        name = f"nasviz-binder-{os.getpid()}"
        for version, base, limit_file in ((1, CGROUP_V1, "memory.limit_in_bytes"), (2, CGROUP_V2, "memory.max")):
            try:
                if not (base / limit_file).exists() and not (base / "cgroup.controllers").exists():
                    continue
                path = base / name
                path.mkdir()
                (path / limit_file).write_text(str(limit_bytes))
                if version == 1:
                    try:
                        (path / "memory.memsw.limit_in_bytes").write_text(str(limit_bytes))  # no swapping past it
                    except OSError:
                        pass
                self.path, self.version = path, version
                return
            except OSError:
                continue

    def __bool__(self):
        return self.path is not None

    def reset_peak(self):
        if self.version == 1:
            (self.path / "memory.max_usage_in_bytes").write_text("0")

    def peak(self) -> int | None:
        for name in ("memory.max_usage_in_bytes", "memory.peak"):
            f = self.path / name
            if f.exists():
                return int(f.read_text().split()[0])
        return None

    def remove(self):
        if self.path is not None:
            try:
                self.path.rmdir()
            except OSError:
                pass


def sample_memory(pid: int, stop: threading.Event, peaks: dict) -> None:
    """Peak RSS of the process tree under ``pid`` and of its largest ipykernel process."""
    import psutil

    try:
        root = psutil.Process(pid)
    except psutil.NoSuchProcess:
        return
    while not stop.is_set():
        try:
            procs = [root] + root.children(recursive=True)
        except psutil.NoSuchProcess:
            break
        total = kernel = 0
        for p in procs:
            try:
                rss = p.memory_info().rss
                total += rss
                if "ipykernel" in " ".join(p.cmdline()):
                    kernel = max(kernel, rss)
            except psutil.Error:
                continue
        peaks["tree"] = max(peaks.get("tree", 0), total)
        peaks["kernel"] = max(peaks.get("kernel", 0), kernel)
        stop.wait(0.1)


def run_notebook(bin_dir: Path, notebook: Path, out_dir: Path, cgroup, timeout: int) -> dict:
    cmd = [str(bin_dir / "jupyter"), "nbconvert", "--to", "notebook", "--execute", f"--output-dir={out_dir}",
           f"--ExecutePreprocessor.timeout={timeout}", str(notebook)]
    if cgroup:
        cgroup.reset_peak()
        procs = cgroup.path / "cgroup.procs"
        cmd = ["sh", "-c", f'echo $$ > "{procs}" && exec "$@"', "sh"] + cmd
    env = dict(os.environ, PATH=f"{bin_dir}{os.pathsep}{os.environ['PATH']}", VIRTUAL_ENV=str(bin_dir.parent))
    env.pop("MPLBACKEND", None)
    peaks: dict = {}
    stop = threading.Event()
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=notebook.parent, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    sampler = threading.Thread(target=sample_memory, args=(proc.pid, stop, peaks), daemon=True)
    sampler.start()
    output = proc.communicate()[0].decode("utf-8", "replace")
    seconds = time.perf_counter() - start
    stop.set()
    sampler.join()
    row = {"notebook": str(notebook.relative_to(ROOT)), "seconds": seconds, "kernel": peaks.get("kernel", 0),
           "tree": peaks.get("tree", 0), "cgroup": cgroup.peak() if cgroup else None, "ok": proc.returncode == 0}
    if not row["ok"]:
        row["error"] = output[-2000:]
    return row


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="*", type=Path,
                        help="default: notebooks/*.ipynb and notebooks/assignments/*.ipynb (instructor versions)")
    parser.add_argument("--venv", type=Path, default=Path(tempfile.gettempdir()) / "nasviz-binder-venv")
    parser.add_argument("--reuse", action="store_true", help="reuse --venv if it exists instead of rebuilding it")
    parser.add_argument("--limit-mb", type=int, default=2048, help="cgroup memory limit; 0: no cgroup")
    parser.add_argument("--timeout", type=int, default=600, help="seconds per cell")
    args = parser.parse_args(argv)

    notebooks = [p.resolve() for p in args.notebooks] or (
        sorted((ROOT / "notebooks").glob("*.ipynb")) + sorted((ROOT / "notebooks" / "assignments").glob("*.ipynb")))
    start = time.perf_counter()
    if args.reuse and (args.venv / "bin" / "jupyter").exists():
        bin_dir = args.venv / "bin"
        print(f"reusing {args.venv}")
    else:
        print(f"building {args.venv} from binder/ ...", flush=True)
        bin_dir = build_venv(args.venv)
        print(f"built in {time.perf_counter() - start:.0f} s", flush=True)
    probe = "import torch, nasviz; print(torch.__version__, torch.cuda.is_available(), nasviz.__version__)"
    version = subprocess.run([str(bin_dir / "python"), "-c", probe], capture_output=True, text=True, check=True)
    print(f"torch, CUDA available, nasviz: {version.stdout.strip()}")

    cgroup = MemoryCgroup(args.limit_mb << 20) if args.limit_mb > 0 else None
    limit = (f"{args.limit_mb} MB memory cgroup (v{cgroup.version})" if cgroup else
             "no memory limit (could not make a cgroup)" if args.limit_mb > 0 else "no memory limit (--limit-mb 0)")
    print(f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}; {limit}")
    rows = []
    try:
        with tempfile.TemporaryDirectory(prefix="nasviz-binder-out-") as out:
            for nb in notebooks:
                row = run_notebook(bin_dir, nb, Path(out), cgroup, args.timeout)
                rows.append(row)
                mb = 1 << 20
                cg = f"{row['cgroup'] / mb:7.0f}" if row["cgroup"] else "      -"
                print(f"{row['notebook']:<48} {row['seconds']:6.1f} s  kernel {row['kernel'] / mb:5.0f} MB  "
                      f"tree {row['tree'] / mb:5.0f} MB  cgroup {cg} MB  {'ok' if row['ok'] else 'FAILED'}",
                      flush=True)
                if not row["ok"]:
                    print(row["error"])
    finally:
        if cgroup:
            cgroup.remove()
    total = sum(r["seconds"] for r in rows)
    print(f"\n{len(rows)} notebooks, {total:.0f} s in all; slowest {max(r['seconds'] for r in rows):.1f} s; "
          f"largest kernel {max(r['kernel'] for r in rows) / (1 << 20):.0f} MB; "
          f"failed: {sum(not r['ok'] for r in rows)}")
    return 0 if all(r["ok"] for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
