"""Global options mean the same wherever they are written, and ports are refused out of
range: each refusal one line, exit code 2, never a traceback (issue 18, findings 3 and 7)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.cli import run


def one_line(done, expected: str) -> None:  # type: ignore[no-untyped-def]
    assert done.returncode == 2, done.stderr
    lines = done.stderr.strip().splitlines()
    assert lines == [lines[0]] and lines[0].startswith("relportal: "), done.stderr
    assert expected in lines[0]
    assert "Traceback" not in done.stderr


def database_row(done) -> str:  # type: ignore[no-untyped-def]
    assert done.returncode == 0, done.stderr
    return next(line for line in done.stdout.splitlines() if line.startswith("database"))


def test_db_before_or_after_the_command_is_the_same_database(tmp_path: Path) -> None:
    db = tmp_path / "mine.db"
    assert database_row(run("--db", str(db), "locate")).split()[1] == str(db)
    assert database_row(run("locate", "--db", str(db))).split()[1] == str(db)
    assert database_row(run("--db", str(db), "locate", "--db", str(db))).split()[1] == str(db)


def test_seed_writes_the_database_given_before_the_command(tmp_path: Path) -> None:
    db = tmp_path / "before.db"
    done = run("--db", str(db), "seed", "--companies", "3")
    assert done.returncode == 0, done.stderr
    assert f"into {db}" in done.stdout and db.exists()


def test_token_commands_use_the_database_given_before_them(tmp_path: Path) -> None:
    db = tmp_path / "tokens.db"
    assert run("--db", str(db), "seed", "--companies", "1").returncode == 0
    made = run(
        "--db", str(db), "token", "create", "alex.morgan@larkspurbank.example", "--days", "3"
    )
    assert made.returncode == 0, made.stderr
    # `token --db X list` (between the two words) and `token list --db X` agree.
    for listed in (
        run("token", "--db", str(db), "list"),
        run("token", "list", "--db", str(db)),
        run("--db", str(db), "token", "list"),
    ):
        assert listed.returncode == 0, listed.stderr
        assert "alex.morgan@larkspurbank.example" in listed.stdout


def test_two_different_values_for_one_option_are_refused(tmp_path: Path) -> None:
    one_line(
        run("--db", str(tmp_path / "a.db"), "serve", "--db", str(tmp_path / "b.db")),
        f"--db is given twice, as {tmp_path / 'a.db'} and {tmp_path / 'b.db'}: give it once",
    )
    assert not (tmp_path / "a.db").exists() and not (tmp_path / "b.db").exists()


def test_config_after_the_command_is_read(tmp_path: Path) -> None:
    config = tmp_path / "bad.toml"
    config.write_text("[servce]\n")
    for args in (["--config", str(config), "keys"], ["keys", "--config", str(config)]):
        one_line(run(*args), f"{config}: unknown section [servce]")


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (
            ["--service", "http://127.0.0.1:9", "serve"],
            "--service does not apply to relportal serve",
        ),
        (["token", "list", "--service", "http://127.0.0.1:9"], "--service does not apply"),
        (["--db", "x.db", "keys"], "--db does not apply to relportal keys (it reads no database)"),
        (["web", "--db", "x.db"], "--db does not apply to relportal web (each session gets"),
        (["--insecure", "seed"], "--insecure does not apply to relportal seed"),
    ],
)
def test_an_option_a_command_has_no_use_for_is_refused(
    tmp_path: Path, args: list[str], expected: str
) -> None:
    one_line(run(*args), expected)


@pytest.mark.parametrize(
    "command",
    [
        ["serve"],
        ["ssh-serve", "--demo-password"],
        ["web"],
    ],
)
@pytest.mark.parametrize("port", ["99999", "65536", "-1", "abc"])
def test_ports_outside_1_to_65535_are_refused(
    tmp_path: Path, command: list[str], port: str
) -> None:
    shown = port if port != "abc" else "'abc'"
    done = run(*command, "--port", port)
    one_line(done, "argument --port: must be a port number from 1 to 65535")
    assert done.stderr.rstrip().split(", not ")[1].startswith(shown)


def test_port_0_is_any_free_port_only_for_web() -> None:
    one_line(run("serve", "--port", "0"), "argument --port: must be a port number from 1 to 65535")
    one_line(
        run("ssh-serve", "--demo-password", "--downloads-port", "0"),
        "argument --downloads-port: must be a port number from 1 to 65535, not 0",
    )
