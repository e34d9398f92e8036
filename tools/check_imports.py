#!/usr/bin/env python3
"""Check the package's structure from its import statements (no import is executed).

    python tools/check_imports.py            # report; exit 1 if a rule is broken
    python tools/check_imports.py --graph    # also print every module's imports

Rules (docs/architecture.md):

1. no import cycle between modules (imports inside functions count: a lazy import
   is still a dependency);
2. no underscore name imported across packages (``from ..bench import _row``), and no
   private module (``estimators._batched``) imported from outside its package;
3. no private attribute of another object reached into (``space._ops``): every
   ``<name>._attr`` where ``<name>`` is not ``self``/``cls`` is listed, except where the
   attribute belongs to the same package's own objects (a module-level ``_name`` of a
   module imported by the same package).
"""

from __future__ import annotations

import argparse
import ast
import sys
from pathlib import Path

import networkx as nx

ROOT = Path(__file__).resolve().parents[1]
_NAMEDTUPLE = {"_asdict", "_replace", "_fields", "_make"}  # public API of namedtuples
PACKAGE = "nasviz"


def module_name(path: Path) -> str:
    rel = path.relative_to(ROOT).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def modules() -> dict[str, Path]:
    return {module_name(p): p for p in sorted((ROOT / PACKAGE).rglob("*.py"))}


def resolve(current: str, is_package: bool, level: int, target: str | None) -> str:
    base = current.split(".") if is_package else current.split(".")[:-1]
    if level > 1:
        base = base[: len(base) - (level - 1)]
    return ".".join(base + ([target] if target else []))


def package_of(module: str, known: dict) -> str:
    """The (sub)package a module lives in: ``nasviz.bench.tables`` -> ``nasviz.bench``."""
    path = known[module]
    return module if path.name == "__init__.py" else module.rpartition(".")[0]


def scan(known: dict[str, Path]):
    graph = nx.DiGraph()
    private_imports, reach_ins = [], []
    for mod, path in known.items():
        graph.add_node(mod)
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        is_pkg = path.name == "__init__.py"
        here = package_of(mod, known)
        for node in ast.walk(tree):
            targets = []
            if isinstance(node, ast.Import):
                targets = [(a.name, None) for a in node.names if a.name.split(".")[0] == PACKAGE]
            elif isinstance(node, ast.ImportFrom):
                src = resolve(mod, is_pkg, node.level, node.module) if node.level else (node.module or "")
                if src.split(".")[0] != PACKAGE:
                    continue
                for alias in node.names:
                    sub = f"{src}.{alias.name}"
                    targets.append((sub, None) if sub in known else (src, alias.name))
            elif isinstance(node, ast.Attribute) and node.attr.startswith("_") and not node.attr.startswith("__"):
                owner = node.value
                if isinstance(owner, ast.Name) and owner.id not in ("self", "cls") \
                        and node.attr not in _NAMEDTUPLE:
                    reach_ins.append((mod, node.lineno, f"{owner.id}.{node.attr}"))
                continue
            for target, name in targets:
                while target not in known and "." in target:
                    target = target.rpartition(".")[0]
                if target not in known or target == mod:
                    continue
                graph.add_edge(mod, target)
                there = package_of(target, known)
                if name is not None and name.startswith("_") and not name.startswith("__") and here != there:
                    private_imports.append((mod, node.lineno, f"{target}.{name}"))
                leaf = target.rpartition(".")[2]
                if leaf.startswith("_") and not leaf.startswith("__") and not here.startswith(there):
                    private_imports.append((mod, node.lineno, f"private module {target}"))
    return graph, sorted(set(private_imports)), sorted(set(reach_ins))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--graph", action="store_true", help="print every module's imports")
    args = parser.parse_args(argv)
    known = modules()
    graph, private_imports, reach_ins = scan(known)
    cycles = [c for c in nx.simple_cycles(graph) if len(c) > 1]
    if args.graph:
        for mod in sorted(graph):
            print(mod, "->", ", ".join(sorted(graph.successors(mod))) or "-")
    print(f"{len(known)} modules, {graph.number_of_edges()} imports")
    print(f"import cycles: {len(cycles)}")
    for c in sorted(cycles, key=len)[:20]:
        print("  " + " -> ".join(c + [c[0]]))
    print(f"underscore names or private modules imported across packages: {len(private_imports)}")
    for mod, line, what in private_imports:
        print(f"  {known[mod].relative_to(ROOT)}:{line}: {what}")
    print(f"private attributes reached on other objects (review): {len(reach_ins)}")
    for mod, line, what in reach_ins:
        print(f"  {known[mod].relative_to(ROOT)}:{line}: {what}")
    return 1 if cycles or private_imports else 0


if __name__ == "__main__":
    sys.exit(main())
