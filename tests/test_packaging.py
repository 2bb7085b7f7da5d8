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
