"""Rebuild the README pictures: ``.venv/bin/python docs/img/make_images.py`` (writes next to this file)."""

from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt

import nasviz as nv
from nasviz.drawing import default_figsize, network_figsize

HERE = Path(__file__).resolve().parent
EXAMPLE = "|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|"
DPI = 110


def save(fig, name):
    fig.savefig(HERE / name, dpi=DPI, bbox_inches="tight")
    plt.close(fig)
    print(f"wrote {HERE / name} ({(HERE / name).stat().st_size // 1024} KB)")


def main():
    space = nv.CellSpace()
    cell = space.from_string(EXAMPLE)

    fig, ax = plt.subplots(figsize=default_figsize(cell))
    nv.draw(cell, ax=ax)
    save(fig, "cell.png")

    fig = plt.figure(figsize=network_figsize(space, cell))
    nv.draw_network(space, cell, ax=fig.add_axes((0, 0, 1, 1)))
    save(fig, "network.png")

    mutant = space.mutate(cell, seed=3)  # one edge changes: 1 -> 3 becomes avg_pool_3x3
    fig, ax = plt.subplots(figsize=default_figsize(mutant))
    nv.draw_diff(cell, mutant, ax=ax)
    save(fig, "diff.png")

    chain = nv.MacroSpace().from_string(
        "conv(16,k3,s1,relu,d0.0) > sep_conv(32,k5,s2,gelu,d0.2) > max_pool(k3,s2) > identity")
    fig, ax = plt.subplots(figsize=default_figsize(chain))
    nv.draw(chain, ax=ax)
    save(fig, "macro.png")


if __name__ == "__main__":
    main()
