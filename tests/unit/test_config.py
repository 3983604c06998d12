"""config.toml: every key documented, bad files stop with one line naming file and key."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from tui.config import SCHEMA, ConfigError, load

ROOT = Path(__file__).resolve().parents[2]


def test_the_example_documents_every_key_with_its_default() -> None:
    example = ROOT / "config.example.toml"
    with open(example, "rb") as handle:
        raw = tomllib.load(handle)
    assert set(raw) == {*SCHEMA, "keys"}
    assert raw["keys"] == {}  # documented, nothing remapped by default
    for section, keys in SCHEMA.items():
        assert set(raw[section]) == set(keys), section
        for key, spec in keys.items():
            assert raw[section][key] == spec.default, f"{section}.{key}"
    config = load(example, explicit=True)
    assert config.get("service", "port") == 8765


def test_no_file_means_defaults(tmp_path: Path) -> None:
    config = load(tmp_path / "absent.toml")
    assert config.path is None
    assert config.get("demo", "companies") == 300


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("[service\nport = 1", "is not valid TOML"),
        ("[nope]\nx = 1", "unknown section [nope]"),
        ("[service]\nprot = 1", "unknown key service.prot"),
        ("[service]\nport = 'eighty'", "service.port must be a port number from 1 to 65535"),
        ("[service]\nport = 0", "service.port must be a port number"),
        ("[service]\nport = true", "service.port must be a port number"),
        ("[service]\nurl = 'ftp://x'", "service.url must be an http:// or https:// URL"),
        ("[mail]\nsmtp_starttls = 'yes'", "mail.smtp_starttls must be true or false"),
        ("[simulation]\npull_fetch_seconds = -1", "simulation.pull_fetch_seconds must be"),
        ("service = 3", "service must be a [service] table"),
    ],
)
def test_bad_values_name_the_file_and_key(tmp_path: Path, text: str, expected: str) -> None:
    path = tmp_path / "config.toml"
    path.write_text(text)
    with pytest.raises(ConfigError) as caught:
        load(path, explicit=True)
    message = str(caught.value)
    assert message.startswith(str(path))
    assert expected in message
    assert "\n" not in message


def test_unreadable_and_missing_files(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no such file"):
        load(tmp_path / "missing.toml", explicit=True)
    with pytest.raises(ConfigError, match="is a folder"):
        load(tmp_path, explicit=True)
    binary = tmp_path / "binary.toml"
    binary.write_bytes(b"\xff\xfe\x00bad")
    with pytest.raises(ConfigError):
        load(binary, explicit=True)


def test_the_cli_stops_on_bad_config_with_one_line_and_no_traceback(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text("[service]\nport = 'x'\n")
    done = subprocess.run(
        [sys.executable, "-m", "tui.cli", "--config", str(path), "locate"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1
    assert str(path) in lines[0] and "service.port" in lines[0]
    assert "Traceback" not in done.stderr


def test_keys_table_is_checked(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text('[keys]\n"portal.search" = "ctrl+f"\n')
    assert load(path, explicit=True).values["keys"] == {"portal.search": "ctrl+f"}
    path.write_text('[keys]\n"portal.search" = 3\n')
    with pytest.raises(ConfigError, match=r"keys.portal.search must be a key"):
        load(path, explicit=True)


def test_an_unknown_binding_id_stops_the_portal_with_one_line(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text('[keys]\n"portal.serach" = "ctrl+f"\n')
    done = subprocess.run(
        [sys.executable, "-m", "tui.cli", "--config", str(path), "--db", str(tmp_path / "x.db")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert done.stderr.strip().count("\n") == 0
    assert "keys.portal.serach is not a binding id" in done.stderr
