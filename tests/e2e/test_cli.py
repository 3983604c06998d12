"""The relportal command line: locate, token create, seed."""

from __future__ import annotations

from pathlib import Path

from journey import service
from journey.storage.sqlite import SQLiteStore
from tests.support.cli import portal_in_a_terminal, run


def test_locate_prints_every_path_under_platformdirs(isolated_dirs: Path) -> None:
    done = run("locate")
    assert done.returncode == 0, done.stderr
    labels = [line.split()[0] for line in done.stdout.splitlines()]
    assert labels == ["config", "preferences", "database", "outbox", "downloads"]
    assert str(isolated_dirs) in done.stdout


def test_token_create_prints_a_token_once_and_stores_only_its_hash(tmp_path: Path) -> None:
    db = tmp_path / "cli.db"
    done = run(
        "token",
        "create",
        "nia@larkspur.example",
        "--new-user",
        "--role",
        "support",
        "--db",
        str(db),
    )
    assert done.returncode == 0, done.stderr
    token = done.stdout.strip()
    assert token.startswith("rp_") and len(token) > 40
    assert "shown only this once" in done.stderr
    store = SQLiteStore(db)
    try:
        user = store.read_sync(lambda tx: service.authenticate(tx, token))
        assert user is not None and user.role.value == "support"
        assert user.email == "nia@larkspur.example"
        raw = store.read_sync(
            lambda tx: [tuple(r) for r in tx.conn.execute("SELECT * FROM api_tokens")]
        )
        assert token not in repr(raw)
    finally:
        store.close()
    # A second token for the same user works too; the role cannot silently change.
    again = run("token", "create", "nia@larkspur.example", "--role", "rm", "--db", str(db))
    assert again.returncode == 2
    assert "already exists with the role support" in again.stderr


def test_token_create_rejects_a_bad_email(tmp_path: Path) -> None:
    done = run("token", "create", "not-an-email", "--db", str(tmp_path / "x.db"))
    assert done.returncode == 2
    assert "not an email address" in done.stderr
    assert "Traceback" not in done.stderr


def test_seed_reports_what_it_made(tmp_path: Path) -> None:
    db = tmp_path / "seed.db"
    done = run("seed", "--companies", "120", "--seed", "4", "--db", str(db))
    assert done.returncode == 0, done.stderr
    assert "seeded 120 companies" in done.stdout
    assert str(db) in done.stdout


def test_seed_refuses_a_file_that_is_not_a_database(tmp_path: Path) -> None:
    db = tmp_path / "junk.db"
    db.write_text("junk" * 1000)
    done = run("seed", "--companies", "5", "--db", str(db))
    assert done.returncode == 2
    assert str(db) in done.stderr
    assert "Traceback" not in done.stderr


def test_serve_refuses_a_number_of_workers_it_cannot_run(tmp_path: Path) -> None:
    done = run("serve", "--workers", "0", "--db", str(tmp_path / "w.db"))
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        "relportal: --workers 0: give a number of processes from 1 to 64"
    ]
    config = tmp_path / "bad.toml"
    config.write_text("[service]\nworkers = 0\n")
    done = run("--config", str(config), "serve")
    assert done.returncode == 2
    assert len(done.stderr.strip().splitlines()) == 1
    assert str(config) in done.stderr and "service.workers" in done.stderr


def test_the_portal_on_a_file_that_is_not_a_database_closes_with_one_line(
    tmp_path: Path,
) -> None:
    """The portal starts while its first answers are read; when the database turns out
    not to be one, it closes again and says so in one line, with no traceback."""
    junk = tmp_path / "junk.db"
    junk.write_text("junk" * 1000)
    code, said = portal_in_a_terminal("--db", str(junk))
    assert code == 2
    assert f"relportal: {junk}: file is not a database" in said
    assert said.count("relportal: ") == 1
    assert "Traceback" not in said
