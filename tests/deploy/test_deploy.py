"""deploy/ runs: the compose file is valid Compose, the image's install script installs a working
Lacak on a fresh copy of the repository (Docker is not on these machines, so its steps run as
the script), and every command the Dockerfile, compose and the systemd units start is one
`lacak` knows, with restart and readiness where they belong."""

import configparser
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from services.cli import parser

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"


def lacak_arguments(command: list[str]) -> list[str]:
    """The arguments after `lacak` (or its full path) in a command line."""
    assert Path(command[0]).name == "lacak", command
    return command[1:]


def parses(arguments: list[str]) -> None:
    parser().parse_args(arguments)  # argparse exits on what it does not know


def test_the_compose_file_is_valid_compose_and_builds_the_image_it_runs():
    checked = subprocess.run(
        [
            str(Path(sys.executable).parent / "check-jsonschema"),
            "--builtin-schema", "vendor.compose-spec", str(DEPLOY / "compose.yaml"),
        ],
        capture_output=True, text=True,
    )  # fmt: skip
    assert checked.returncode == 0, checked.stdout + checked.stderr
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    lacak = [s for s in compose["services"].values() if s.get("image") == "lacak:latest"]
    assert len(lacak) >= 7
    for service in lacak:
        assert service["build"]["dockerfile"] == "deploy/Dockerfile"
        assert (DEPLOY / service["build"]["context"] / service["build"]["dockerfile"]).exists()
        parses(lacak_arguments(service["command"]))
    webs = [s for s in lacak if s["command"] == ["lacak", "web"]]
    assert len(webs) >= 2 and all("healthcheck" in w and "test" in w["healthcheck"] for w in webs)
    for web in webs:
        parses(lacak_arguments(web["healthcheck"]["test"][1:]))


def test_every_systemd_unit_restarts_and_starts_a_command_lacak_knows():
    units = sorted((DEPLOY / "systemd").glob("*.service"))
    assert {u.name for u in units} >= {
        "lacak-web@.service", "lacak-relay.service", "lacak-project@.service"
    }  # fmt: skip
    for unit in units:
        config = configparser.ConfigParser(strict=False, interpolation=None)
        config.read(unit)
        service = config["Service"]
        assert service["Restart"] == "always", unit.name
        for key in ("ExecStart", "ExecStartPost"):
            if key in service:
                line = service[key].replace("%i", "board" if "project" in unit.name else "8001")
                parses(lacak_arguments(shlex.split(line)))
    web = configparser.ConfigParser(strict=False, interpolation=None)
    web.read(DEPLOY / "systemd" / "lacak-web@.service")
    assert "lacak ready" in web["Service"]["ExecStartPost"]  # started means ready
    target = (DEPLOY / "systemd" / "lacak.target").read_text()
    for wanted in re.findall(r"(lacak-[\w@-]+)\.service", target):
        template = re.sub(r"@.*", "@", wanted)
        assert (DEPLOY / "systemd" / f"{template}.service").exists(), wanted


def test_the_dockerfile_copies_what_exists_and_runs_the_install_script():
    dockerfile = (DEPLOY / "Dockerfile").read_text()
    for source in re.findall(r"^COPY (.+) \S+$", dockerfile, re.M):
        for path in source.split():
            assert (ROOT / path).exists(), path
    assert "RUN sh deploy/install.sh" in dockerfile
    cmd = re.search(r"^CMD (\[.*\])$", dockerfile, re.M)
    assert cmd is not None
    parses(lacak_arguments(yaml.safe_load(cmd[1])))


@pytest.mark.skipif(shutil.which("npm") is None, reason="npm is not installed")
def test_the_install_script_installs_a_working_lacak_on_a_fresh_copy(tmp_path):
    """The image's one RUN step, on the repository's files as a clean clone has them."""
    files = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT, capture_output=True, text=True, check=True,
    ).stdout.split()  # fmt: skip
    copy = tmp_path / "lacak"
    for name in files:
        if (ROOT / name).is_file():
            (copy / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, copy / name)
    done = subprocess.run(
        ["sh", "deploy/install.sh"], cwd=copy, capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert (copy / "web" / "node_modules" / "htmx.org" / "dist").is_dir()
    said = subprocess.run(
        [str(copy / ".venv" / "bin" / "lacak"), "ready", "--help"], capture_output=True, text=True
    )
    assert said.returncode == 0 and "readyz" in said.stdout
