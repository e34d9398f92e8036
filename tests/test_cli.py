import os
import subprocess
import sys
from pathlib import Path

import pytest

import nasviz as nv
from nasviz import cli
from nasviz.cli import main, parse_architecture
from nasviz.devices import auto_device, resolve_device
from nasviz.errors import InvalidArgumentError, NasvizError, UnknownOpError

EXAMPLE = "|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|"
BAD_OP = EXAMPLE.replace("avg_pool_3x3", "conv_9x9")
CHAIN = "conv(16,k3,s1,relu,d0.0) > max_pool(k3,s2)"
PNG = b"\x89PNG\r\n\x1a\n"


def _png(path: Path) -> bool:
    return path.is_file() and path.read_bytes()[:8] == PNG


# -- devices ------------------------------------------------------------------------------

def test_auto_device_follows_cuda_availability():
    import torch

    assert auto_device() == ("cuda" if torch.cuda.is_available() else "cpu")
    assert resolve_device("auto") == auto_device()
    assert resolve_device("cpu") == "cpu"
    assert resolve_device(torch.device("cpu")) == "cpu"
    for bad in ["gpu", "cuda:x", 3, None]:
        with pytest.raises(InvalidArgumentError, match="accepted: 'auto', 'cpu'"):
            resolve_device(bad)
    if not torch.cuda.is_available():
        with pytest.raises(InvalidArgumentError, match="no CUDA GPU"):
            resolve_device("cuda")


# -- in-process -----------------------------------------------------------------------------

def test_help_and_version(capsys):
    assert main(["--help"]) == 0
    out = capsys.readouterr().out
    assert "info" in out and "draw" in out
    assert main(["--version"]) == 0
    assert capsys.readouterr().out.strip() == f"nasviz {nv.__version__}"
    assert main(["draw", "--help"]) == 0
    assert "--hide-none" in capsys.readouterr().out


def test_usage_errors_exit_2(capsys):
    assert main([]) == 2
    assert "usage: nasviz" in capsys.readouterr().err
    assert main(["draw", EXAMPLE]) == 2  # -o is required
    assert "-o/--output" in capsys.readouterr().err
    assert main(["frobnicate"]) == 2
    assert main(["draw", EXAMPLE, "-o", "x.png", "--input-shape", "8,8"]) == 2
    assert "C,H,W" in capsys.readouterr().err


def test_info_prints_versions_and_device(capsys):
    assert main(["info"]) == 0
    out = capsys.readouterr().out
    lines = dict(line.split(":", 1) for line in out.strip().splitlines())
    assert lines["nasviz"].strip() == nv.__version__
    assert {"python", "torch", "numpy", "threads", "device"} <= set(lines)
    assert lines["device"].split()[0] == auto_device()


def test_draw_cell_network_diff_and_chain(tmp_path, capsys):
    out = tmp_path / "cell.png"
    assert main(["draw", EXAMPLE, "-o", str(out)]) == 0
    assert _png(out) and capsys.readouterr().out.strip() == f"wrote {out}"
    assert main(["draw", EXAMPLE, "-o", str(tmp_path / "hidden.png"), "--hide-none", "--no-labels"]) == 0
    assert main(["draw", EXAMPLE, "-o", str(tmp_path / "net.png"), "--network", "--cells-per-stage", "3"]) == 0
    assert main(["draw", EXAMPLE, "--diff", EXAMPLE.replace("avg_pool_3x3", "none"),
                 "-o", str(tmp_path / "diff.png")]) == 0
    assert main(["draw", CHAIN, "-o", str(tmp_path / "chain.svg")]) == 0
    assert all(_png(tmp_path / f) for f in ["hidden.png", "net.png", "diff.png"])
    assert (tmp_path / "chain.svg").read_text().lstrip().startswith("<?xml")


def test_nasviz_errors_exit_1_with_one_line(tmp_path, capsys):
    cases = [
        (["draw", BAD_OP, "-o", str(tmp_path / "a.png")], "'conv_9x9'"),
        (["draw", "conv(16,k3,s1,relu,d0.0) > bogus", "-o", str(tmp_path / "a.png")], "'bogus'"),
        (["draw", EXAMPLE, "-o", str(tmp_path / "a.xyz")], "'.png'"),
        (["draw", EXAMPLE, "-o", str(tmp_path / "no" / "dir" / "a.png")], "cannot write"),
        (["draw", EXAMPLE, "--diff", CHAIN, "-o", str(tmp_path / "a.png")], "same kind"),
    ]
    for argv, needle in cases:
        assert main(argv) == 1, argv
        err = capsys.readouterr().err
        assert err.startswith("nasviz draw: error: ") and needle in err, err
        assert err.count("\n") == 1 and "Traceback" not in err
    assert not list(tmp_path.glob("a.*"))


def test_parse_architecture_tries_the_cell_parser_first():
    space, arch = parse_architecture(EXAMPLE)
    assert type(space).__name__ == "CellSpace" and str(arch) == EXAMPLE
    space, arch = parse_architecture(CHAIN)
    assert type(space).__name__ == "MacroSpace" and str(arch) == CHAIN
    deep = " > ".join(["identity"] * 6)
    assert parse_architecture(deep)[1].depth == 6
    with pytest.raises(UnknownOpError, match="conv_9x9"):
        parse_architecture(BAD_OP)


def test_a_subcommand_plugs_in_through_the_list(monkeypatch, capsys):
    def _add_hello(subparsers):
        p = subparsers.add_parser("hello", help="greet")
        p.add_argument("--name", default="world")
        return p

    def _cmd_hello(args):
        if args.name == "bad":
            raise NasvizError("bad name 'bad'; accepted: anything else")
        print(f"hello {args.name}")
        return 0

    monkeypatch.setattr(cli, "SUBCOMMANDS", cli.SUBCOMMANDS + [(_add_hello, _cmd_hello)])
    assert main(["hello", "--name", "you"]) == 0
    assert capsys.readouterr().out == "hello you\n"
    assert main(["hello", "--name", "bad"]) == 1
    assert capsys.readouterr().err == "nasviz hello: error: bad name 'bad'; accepted: anything else\n"
    assert main(["info", "--help"]) == 0  # the others still work


# -- as a program ---------------------------------------------------------------------------

def _run(*args, cwd=None):
    env = dict(os.environ, MPLBACKEND="Agg")
    return subprocess.run(list(args), check=False, capture_output=True, text=True, cwd=cwd, env=env, timeout=120)


def test_python_m_nasviz_and_the_console_script(tmp_path):
    r = _run(sys.executable, "-m", "nasviz", "--help")
    assert r.returncode == 0 and "usage: nasviz" in r.stdout

    script = Path(sys.executable).with_name("nasviz")
    command = [str(script)] if script.exists() else [sys.executable, "-m", "nasviz"]
    r = _run(*command, "draw", EXAMPLE, "-o", "tmp.png", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert _png(tmp_path / "tmp.png")

    r = _run(*command, "draw", BAD_OP, "-o", "bad.png", cwd=tmp_path)
    assert r.returncode == 1
    assert "conv_9x9" in r.stderr and "Traceback" not in r.stderr and r.stderr.count("\n") == 1
    assert not (tmp_path / "bad.png").exists()

    r = _run(*command, "info")
    assert r.returncode == 0
    assert any(line.startswith("device:") and auto_device() in line for line in r.stdout.splitlines())
