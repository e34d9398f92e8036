"""The package's structure holds: no import cycles, no private names imported across packages."""

import importlib.util
import os

HERE = os.path.dirname(os.path.abspath(__file__))
TOOL = os.path.join(os.path.dirname(HERE), "tools", "check_imports.py")


def _tool():
    spec = importlib.util.spec_from_file_location("check_imports", TOOL)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_no_import_cycle_and_no_private_import_across_packages(capsys):
    tool = _tool()
    graph, private_imports, _ = tool.scan(tool.modules())
    cycles = [c for c in __import__("networkx").simple_cycles(graph) if len(c) > 1]
    assert cycles == []
    assert private_imports == []
    assert tool.main([]) == 0
    assert "import cycles: 0" in capsys.readouterr().out


def test_the_tool_sees_a_cycle_and_a_private_import(tmp_path, monkeypatch):
    tool = _tool()
    pkg = tmp_path / "nasviz"
    (pkg / "sub").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "a.py").write_text("from .b import x\n")
    (pkg / "b.py").write_text("def f():\n    from .a import y\n")
    (pkg / "sub" / "__init__.py").write_text("")
    (pkg / "sub" / "c.py").write_text("from ..a import _hidden\nfrom .. import b\nb._peek\n")
    monkeypatch.setattr(tool, "ROOT", tmp_path)
    graph, private_imports, reach_ins = tool.scan(tool.modules())
    assert any(set(c) == {"nasviz.a", "nasviz.b"} for c in __import__("networkx").simple_cycles(graph))
    assert [what for _, _, what in private_imports] == ["nasviz.a._hidden"]
    assert [what for _, _, what in reach_ins] == ["b._peek"]
