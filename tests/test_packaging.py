"""The two ways to install (pip with setup.cfg, conda with environment.yml) must ask for the same packages."""

import configparser
import re

from tests.helpers import REPO


def _names_and_specs(lines):
    return {re.split(r"[<>=!~ ]", line, maxsplit=1)[0].lower(): line.replace(" ", "") for line in lines}


def test_environment_yml_matches_setup_cfg():
    cfg = configparser.ConfigParser()
    cfg.read(REPO / "setup.cfg")
    wanted = [s for s in cfg["options"]["install_requires"].split("\n") if s.strip()]
    for extra in ("dev", "explore"):
        wanted += [s for s in cfg["options.extras_require"][extra].split("\n") if s.strip()]
    env = (REPO / "environment.yml").read_text()
    pip_lines = [m.strip() for m in re.findall(r"^\s+- (\S.*)$", env, flags=re.M)]
    assert "python=3.11" in pip_lines and "-e ." in pip_lines
    assert _names_and_specs(wanted).items() <= _names_and_specs(pip_lines).items()


def test_the_wheel_holds_the_package_and_license_and_no_tests_and_its_commands_answer(tmp_path):
    import configparser as cp
    import subprocess
    import sys
    import zipfile

    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w",
                    str(tmp_path), str(REPO)], check=True, capture_output=True)
    (wheel,) = tmp_path.glob("infogan-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert {"infogan/__init__.py", "infogan/data/datamodule.py", "infogan/terms/contrastive.py"} <= set(names)
    assert any(n.endswith(".dist-info/licenses/LICENSE") or n.endswith(".dist-info/LICENSE") for n in names)
    assert not any(n.startswith(("tests/", "benchmarks/")) for n in names)
    entry_points = cp.ConfigParser()
    entry_points.read_string(zipfile.ZipFile(wheel).read(next(n for n in names if n.endswith("entry_points.txt")))
                             .decode())
    scripts = dict(entry_points["console_scripts"])
    assert set(scripts) == {"infogan-train", "infogan-generate", "infogan-evaluate", "infogan-explore"}
    for script, target in scripts.items():  # each console script's function answers --help with its CLI's usage
        module, function = target.split(":")
        out = subprocess.run([sys.executable, "-c", f"import sys; sys.argv = [{script!r}, '--help']\n"
                              f"from {module} import {function}; {function}()"],
                             capture_output=True, text=True, cwd=REPO)
        assert out.returncode == 0 and f"python -m infogan.{script.split('-')[1]}" in out.stdout, (script, out.stderr)
    listing = subprocess.run([sys.executable, "-m", "infogan"], capture_output=True, text=True, cwd=REPO, check=True)
    assert all(f"  {name}" in listing.stdout for name in ("train", "generate", "evaluate", "explore"))
    unknown = subprocess.run([sys.executable, "-m", "infogan", "fly"], capture_output=True, text=True, cwd=REPO)
    assert unknown.returncode == 2 and "unknown command 'fly'" in unknown.stderr


def test_every_link_of_the_readme_resolves_and_it_stays_short():
    text = (REPO / "README.md").read_text()
    assert len(text.encode()) <= 15_000  # a five-minute read; the rest lives in docs/
    links = re.findall(r"\]\(([^)\s]+)\)", text)
    local = [link for link in links if not link.startswith(("http://", "https://"))]
    assert local, "no links found: the pattern broke"
    for link in local:
        path, _, anchor = link.partition("#")
        assert (REPO / path).exists(), link
        if anchor:  # a heading of that page, as mkdocs' toc writes its id
            headings = re.findall(r"^#+ (.+)$", (REPO / path).read_text(), flags=re.M)
            ids = {re.sub(r"[^a-z0-9 -]", "", h.lower()).strip().replace(" ", "-") for h in headings}
            assert anchor in ids, link
