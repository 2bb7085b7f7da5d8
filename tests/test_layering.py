"""The package's floors (README, Layout): CLIs over Lightning over pure torch; nothing imports from a floor above
it, and no pure module imports Lightning. Read from the source (every import, also those inside functions)."""

import ast
from pathlib import Path

import pytest

from tests.helpers import REPO

PACKAGE = REPO / "infogan"
FLOORS = {  # higher number: higher floor
    2: ("train", "generate", "evaluate", "explore", "cli", "__main__"),
    1: ("infogan_module", "checkpoint", "data.datamodule", "callbacks", "scoring"),
    0: ("errors", "config", "files", "latent", "networks", "consistency", "augment", "objective", "terms", "metrics",
        "render", "classifier", "data", "data.records", "data.idx", "data.image_files", "data.dsprites", "data.pixels",
        "data.training_order", "label_free", "labels", "plots", "protocols"),
}
FLOOR_OF = {name: floor for floor, names in FLOORS.items() for name in names}
LIGHTNING = ("pytorch_lightning", "lightning")


def _module(path: Path) -> str:
    """``terms`` for every file below infogan/terms/; ``data.NAME`` below infogan/data/ (``data``: its
    ``__init__``); else the file's stem."""
    parts = [p.removesuffix(".py") for p in path.relative_to(PACKAGE).parts]
    if parts[0] == "data":
        return "data" if parts[-1] == "__init__" else ".".join(parts)
    return parts[0]


def _floor(dotted: str) -> int | None:
    """The floor of an ``infogan.X[.Y]`` module name (None outside the package's modules)."""
    parts = dotted.split(".")[1:]
    for n in (2, 1):
        if ".".join(parts[:n]) in FLOOR_OF:
            return FLOOR_OF[".".join(parts[:n])]
    return None


def _is_main_block(node: ast.AST) -> bool:
    """``if __name__ == "__main__":``: runs as a script only (``python -m infogan.infogan_module`` hands over to the
    training CLI there), never when the module is imported, so it is no import of the floor."""
    test = getattr(node, "test", None)
    return (isinstance(node, ast.If) and isinstance(test, ast.Compare) and isinstance(test.left, ast.Name)
            and test.left.id == "__name__")


def _imports(path: Path) -> set[str]:
    """Every module name ``path`` imports, as written (``from infogan import render`` gives ``infogan.render``)."""
    names = set()
    tree = ast.parse(path.read_text())
    tree.body = [node for node in tree.body if not _is_main_block(node)]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names if node.module == "infogan")
    return names


SOURCES = sorted(p for p in PACKAGE.rglob("*.py") if p.name != "__init__.py" or p.parent != PACKAGE)


def test_every_module_has_a_floor():
    assert {_module(p) for p in SOURCES} == set(FLOOR_OF)


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_nothing_imports_from_a_floor_above_it(path):
    here = FLOOR_OF[_module(path)]
    for name in _imports(path):
        parts = name.split(".")
        floor = _floor(name) if parts[0] == "infogan" else None
        if floor is not None:
            assert floor <= here, f"{path.name} (floor {here}) imports {name} (floor {floor})"
        if here == 0:
            assert parts[0] not in LIGHTNING, f"pure module {path.name} imports {name}"


def test_the_checker_catches_an_upward_import(tmp_path):
    bad = tmp_path / "x.py"
    bad.write_text("def f():\n    from infogan.train import main\n    import pytorch_lightning\n")
    assert {"infogan.train", "pytorch_lightning"} <= _imports(bad)


def test_the_training_module_is_imported_once_under_python_dash_m():
    """``python -m infogan.infogan_module`` hands over before defining anything, so one InfoGAN class exists (a run
    that gets past the flags imports the module; a missing folder then stops it before any training)."""
    import subprocess
    import sys

    code = ("import builtins, runpy, sys\n"
            "build, made = builtins.__build_class__, []\n"
            "def spy(func, name, *args, **kwargs):\n"
            "    made.append(name)\n"
            "    return build(func, name, *args, **kwargs)\n"
            "builtins.__build_class__ = spy\n"
            "sys.argv = ['infogan_module', '--dataset', 'folder', '--data_dir', '/nonexistent/infogan-test']\n"
            "try:\n    runpy.run_module('infogan.infogan_module', run_name='__main__', alter_sys=True)\n"
            "except SystemExit:\n    pass\n"
            "print(made.count('InfoGAN'))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, check=True)
    assert out.stdout.strip().splitlines()[-1] == "1", out.stdout
