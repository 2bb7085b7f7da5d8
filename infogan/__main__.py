"""``python -m infogan``: what the package's commands are, and ``python -m infogan COMMAND ...`` runs one."""

from __future__ import annotations

import importlib
import sys
from typing import Optional, Sequence

# command -> (module with main(), what it does); the console scripts of setup.cfg are the same mains
COMMANDS = {
    "train": ("infogan.train", "train InfoGAN on mnist, fashion_mnist, celeba, dsprites or a folder of images"),
    "generate": ("infogan.generate", "a checkpoint -> a PNG grid, a traversal sheet or a GIF"),
    "evaluate": ("infogan.evaluate", "score checkpoints: accuracy / NMI / ARI, FactorVAE / MIG, label-free checks"),
    "explore": ("infogan.explore", "a local web page with a slider per code (pip install infogan[explore])"),
}


def usage() -> str:
    width = max(map(len, COMMANDS))
    lines = ["usage: python -m infogan COMMAND [ARGS ...]   (or infogan-COMMAND [ARGS ...])", "", "commands:"]
    lines += [f"  {name:<{width}}  {text}" for name, (_, text) in COMMANDS.items()]
    lines += ["", "python -m infogan COMMAND --help lists a command's flags."]
    return "\n".join(lines)


def run(command: str, argv: Sequence[str]) -> None:
    """Run one command's CLI. Its result is not returned: a console script passes a return value to sys.exit."""
    importlib.import_module(COMMANDS[command][0]).main(list(argv))


def train() -> None:
    """The ``infogan-train`` console script."""
    run("train", sys.argv[1:])


def generate() -> None:
    """The ``infogan-generate`` console script."""
    run("generate", sys.argv[1:])


def evaluate() -> None:
    """The ``infogan-evaluate`` console script."""
    run("evaluate", sys.argv[1:])


def explore() -> None:
    """The ``infogan-explore`` console script."""
    run("explore", sys.argv[1:])


def main(argv: Optional[Sequence[str]] = None) -> None:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ("-h", "--help"):
        print(usage())
        return
    if argv[0] not in COMMANDS:
        print(f"{usage()}\n\npython -m infogan: error: unknown command {argv[0]!r}", file=sys.stderr)
        raise SystemExit(2)
    run(argv[0], argv[1:])


if __name__ == "__main__":
    main()
