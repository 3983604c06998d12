"""``relportal``: one entry point for the portal, the service and the tools around it.

Heavy modules (Textual, FastAPI, uvicorn) are imported inside the command that needs
them, so ``relportal locate`` or ``relportal token create`` start instantly.
"""

from __future__ import annotations

import argparse
import sqlite3
import sys
from functools import partial
from pathlib import Path
from typing import NoReturn

from journey.core.tokens import TOKEN_DAYS, TOKEN_DAYS_MAX
from tui import paths
from tui.config import SCHEMA, Config, ConfigError, listening_url, load, service_settings
from tui.hosting.hosted import refuse_cleartext_service


class _Parser(argparse.ArgumentParser):
    """Refuses bad flags in one line, like every other refusal, not argparse's usage block.
    Subcommands' parsers are of this class too (add_subparsers takes the parent's)."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"relportal: {message} (see {self.prog} --help)\n")


# Options that mean the same wherever they are written: before the command
# (`relportal --db X serve`) or after it (`relportal serve --db X`). Each place keeps
# its own value (dest ``global_<name>_<level>``); ``_settle_global_options`` then takes
# the one given, refuses two that differ, and refuses one the command has no use for.
GLOBAL_OPTIONS = ("config", "service", "insecure", "db")
SERVICE_HELP = "URL of a remote `relportal serve` (default: embedded)"
HOSTED_SERVICE_HELP = (
    "sessions use this `relportal serve` as RELPORTAL_TOKEN's user (default: demo data)"
)
# What each command does with the global options; any other is refused, not ignored.
GLOBALS_USED: dict[str | None, frozenset[str]] = {
    None: frozenset(GLOBAL_OPTIONS),  # the portal
    "simulate": frozenset(GLOBAL_OPTIONS),
    "serve": frozenset({"config", "db"}),
    "seed": frozenset({"config", "db"}),
    "token": frozenset({"config", "db"}),
    "locate": frozenset({"config", "db"}),
    "keys": frozenset({"config"}),
    "ssh-serve": frozenset({"config", "service", "insecure"}),
    "web": frozenset({"config", "service", "insecure"}),
}
WHY_NOT = {
    "db": {
        "keys": "it reads no database",
        "ssh-serve": "each session gets a private copy of the demo data; "
        "--service URL shares a running `relportal serve` instead",
        "web": "each session gets a private copy of the demo data; "
        "--service URL shares a running `relportal serve` instead",
    },
    "service": {
        "serve": "it is the service; --db names its database",
        "seed": "it writes a database file; --db names it",
        "token": "tokens are made on the service's machine; --db names its database",
        "locate": "it prints local paths",
        "keys": "it lists local key bindings",
    },
}


def port_number(text: str, *, any_free: bool = False) -> int:
    """``--port``: a TCP port from 1 to 65535 (0 too where it means "any free port")."""
    low = 0 if any_free else 1
    expected = f"a port number from 1 to 65535{' (or 0: any free port)' if any_free else ''}"
    try:
        port = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be {expected}, not {text!r}") from None
    if not low <= port <= 65535:
        raise argparse.ArgumentTypeError(f"must be {expected}, not {port}")
    return port


def _add_global_options(
    parser: argparse.ArgumentParser, level: int, *, service_help: str = SERVICE_HELP
) -> None:
    def dest(name: str) -> str:
        return f"global_{name}_{level}"

    quiet = argparse.SUPPRESS  # absent unless given: "not given" differs from a value
    group = parser.add_argument_group("global options (before or after the command)")
    group.add_argument(
        "--config",
        type=Path,
        metavar="FILE",
        dest=dest("config"),
        default=quiet,
        help="config file (default: relportal locate)",
    )
    group.add_argument(
        "--service", metavar="URL", dest=dest("service"), default=quiet, help=service_help
    )
    group.add_argument(
        "--insecure", action="store_true", dest=dest("insecure"), default=quiet, help=INSECURE_HELP
    )
    group.add_argument(
        "--db",
        type=Path,
        metavar="PATH",
        dest=dest("db"),
        default=quiet,
        help="the service's SQLite database (default: service.db, else relportal locate)",
    )


def _command_parser(commands, name: str, *, level: int = 1, **kwargs):  # type: ignore[no-untyped-def]
    """A command's parser, taking the global options too."""
    service_help = kwargs.pop("service_help", SERVICE_HELP)
    command = commands.add_parser(name, **kwargs)
    _add_global_options(command, level, service_help=service_help)
    return command


class GlobalOptionError(Exception):
    """A global option given twice with different values, or to a command that has no
    use for it (one line)."""


def _settle_global_options(args: argparse.Namespace) -> None:
    """Set ``args.config``, ``args.service``, ``args.insecure``, ``args.db`` from
    wherever they were written; the same value twice is fine, two values are not."""
    command = args.command
    shown = f"relportal {command}" if command else "the portal"
    for name in GLOBAL_OPTIONS:
        given = [
            value
            for key, value in sorted(vars(args).items())
            if key.startswith(f"global_{name}_") and value is not None
        ]
        for key in [key for key in vars(args) if key.startswith(f"global_{name}_")]:
            delattr(args, key)
        distinct = list(dict.fromkeys(str(value) for value in given))
        if len(distinct) > 1:
            raise GlobalOptionError(
                f"--{name} is given twice, as {distinct[0]} and {distinct[1]}: give it once"
            )
        value = given[0] if given else None
        if name == "insecure":
            value = bool(value)
        if value and name not in GLOBALS_USED[command]:
            why = WHY_NOT.get(name, {}).get(command or "", "it does not use it")
            raise GlobalOptionError(f"--{name} does not apply to {shown} ({why})")
        setattr(args, name, value)


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="relportal",
        description="Relationship Portal: request business data from client companies "
        "and watch their data-sharing journeys arrive. The global options mean the same "
        "before or after the command; given in both places, they must agree.",
    )
    _add_global_options(parser, 0)
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    serve = _command_parser(commands, "serve", help="run the journey service for several people")
    serve.add_argument("--host", help="address to listen on (default 127.0.0.1)")
    serve.add_argument("--port", type=port_number, help="port, 1 to 65535 (default 8765)")
    serve.add_argument(
        "--workers",
        type=int,
        help="service processes, to use more cores (default 1; see docs/deploy.md)",
    )
    serve.add_argument(
        "--demo-companies",
        type=int,
        help="companies in the demo organization created on first start (default 300; 0: none)",
    )

    seed = _command_parser(commands, "seed", help="add demo companies (deterministic for a seed)")
    seed.add_argument("--companies", type=int, default=300)
    seed.add_argument("--seed", type=int, default=7)

    token = _command_parser(commands, "token", help="API tokens")
    token_commands = token.add_subparsers(dest="token_command", metavar="ACTION", required=True)
    create = _command_parser(
        token_commands, "create", level=2, help="print a new token for a user, once"
    )
    create.add_argument("email")
    create.add_argument(
        "--role",
        choices=("rm", "admin", "support"),
        default=None,
        help="the user's role: checked for a known user, given to a new one (default rm)",
    )
    create.add_argument("--org", default=None, help="organization name (default: the demo one)")
    create.add_argument(
        "--new-user",
        action="store_true",
        help="EMAIL is not a user yet: create them (and --org, if it is new) first",
    )
    create.add_argument("--name", default=None, help="the new user's name (with --new-user)")
    create.add_argument(
        "--days",
        type=int,
        default=TOKEN_DAYS,
        help=f"days the token lives, 1 to {TOKEN_DAYS_MAX} (default {TOKEN_DAYS})",
    )
    listing = _command_parser(
        token_commands,
        "list",
        level=2,
        help="every token: id, user, role, created, expires (never the secret)",
    )
    listing.add_argument("--org", default=None, help="only this organization's users' tokens")
    revoke = _command_parser(
        token_commands, "revoke", level=2, help="revoke a token by its id (token list)"
    )
    revoke.add_argument("id")

    simulate = _command_parser(
        commands,
        "simulate",
        help="walk a request's journey as its customer (the customer simulation)",
    )
    simulate.add_argument("link", help="the request link, or its token")

    ssh_serve = _command_parser(
        commands,
        "ssh-serve",
        help="the portal over SSH: a private session of its own for each viewer",
        service_help=HOSTED_SERVICE_HELP,
    )
    ssh_serve.add_argument("--host", help="address to listen on (default 127.0.0.1)")
    ssh_serve.add_argument("--port", type=port_number, help="port, 1 to 65535 (default 2222)")
    ssh_serve.add_argument(
        "--authorized-keys", type=Path, metavar="FILE", help="who may log in (OpenSSH format)"
    )
    ssh_serve.add_argument(
        "--demo-password",
        action="store_true",
        help="log in with a random password, printed once at start",
    )
    ssh_serve.add_argument(
        "--downloads-port",
        type=port_number,
        metavar="N",
        help="port of the sessions' download links (default: the SSH port + 1)",
    )
    ssh_serve.add_argument(
        "--allow-root",
        action="store_true",
        help="run even as root (every viewer's portal would then be root too)",
    )

    web = _command_parser(
        commands,
        "web",
        help="the portal in a browser, behind a login: a private session for each tab",
        service_help=HOSTED_SERVICE_HELP,
    )
    web.add_argument("--host", help="address to listen on (default 127.0.0.1)")
    web.add_argument(
        "--port",
        type=partial(port_number, any_free=True),
        help="port, 1 to 65535 (default 8000; 0: any free port)",
    )
    web.add_argument(
        "--password-file",
        type=Path,
        metavar="FILE",
        help="the login password, on the file's first line (default: RELPORTAL_WEB_PASSWORD, "
        "else a random one printed at start)",
    )
    web.add_argument(
        "--public-url",
        metavar="URL",
        help="the https:// URL browsers reach the portal at, behind a TLS proxy "
        "(then the login cookie is Secure and __Host-; default: web.public_url)",
    )
    web.add_argument(
        "--allow-root",
        action="store_true",
        help="run even as root (every viewer's portal would then be root too)",
    )

    _command_parser(
        commands, "locate", help="print where config, preferences, database and outbox are"
    )
    _command_parser(commands, "keys", help="list the portal's key bindings and their ids")
    return parser


INSECURE_HELP = "allow a plain http:// --service off this machine (the token travels in clear)"


def _fail(message: str) -> int:
    print(f"relportal: {message}", file=sys.stderr)
    return 2


def downloads_folder(config: Config) -> Path:
    return Path(config.get("portal", "downloads") or paths.default_downloads()).expanduser()


def _open_store(path: Path, *, write: bool = True):  # type: ignore[no-untyped-def]
    """The store at ``path``, or ConfigError (one line) if it cannot be used, or written
    when ``write``: said at once, not at the first write."""
    from journey.storage.sqlite import SQLiteStore, StorageError

    try:
        store = SQLiteStore(path)
    except StorageError as exc:
        raise ConfigError(str(exc)) from None
    if write:
        try:
            store.check_writable()
        except StorageError as exc:
            store.close()
            raise ConfigError(str(exc)) from None
    return store


def cmd_portal(args: argparse.Namespace, config: Config, simulate: str | None = None) -> int:
    """The Relationship Portal, on the embedded service or a remote one (opened on a
    customer simulation of ``simulate``, a link, when given)."""
    import os

    from tui.hosting.hosted import hosting_from_environment

    hosting = hosting_from_environment()  # a viewer's session: it names no paths
    url = args.service or config.get("service", "url")
    preferences_path = paths.preferences_file()
    preferences_notice = None  # a damaged preferences file, set aside here: the app says so
    if url:
        token = os.environ.get("RELPORTAL_TOKEN") or config.get("service", "token")
        if not token:
            return _fail(
                "a remote service needs a token: set RELPORTAL_TOKEN or service.token "
                "(relportal token create EMAIL on the service's machine)"
            )

        from tui.client import remote_client

        def factory():  # type: ignore[no-untyped-def]
            return remote_client(url, token)
    else:
        from tui import preferences
        from tui.listing import Criteria
        from tui.opening import Opening

        settings = service_settings(config, args.db)
        saved, preferences_notice = preferences.read(preferences_path)
        user_email = config.get("portal", "user") or None
        user_source = f"{config.path or paths.default_config_file()}: portal.user"
        # Read the first answers in a thread while Textual imports (tui/opening.py).
        opening = Opening(settings.db_path, user_email, Criteria.saved(saved)).start()
        from tui.app import RelportalApp  # the longest import: the opening reads meanwhile
        from tui.client import embedded_client
        from tui.customer_pages import for_portal

        def factory():  # type: ignore[no-untyped-def]
            # The app starts while the opening is still read; a bad database closes it
            # with one line (RelportalApp.refusal).
            return embedded_client(
                settings,
                user_email,
                partial(opening.checked_answers, 1.0),
                freeze_heap=True,
                user_source=user_source,
                # A link the RM copies opens in a browser on this machine (not in a
                # viewer's hosted session: their browser is elsewhere).
                customer_pages=for_portal(config, hosting),
            )

    from tui.keys import check_keymap

    keymap = config.values.get("keys", {})
    problem = check_keymap(keymap, str(config.path or paths.default_config_file()))
    if problem:
        return _fail(problem)
    from tui.app import RelportalApp

    app = RelportalApp(
        factory,
        keymap=keymap,
        preferences_path=preferences_path,
        preferences_notice=preferences_notice,
        simulate=simulate,
        downloads=downloads_folder(config),
        hosting=hosting,
    )
    app.run()
    if app.refusal:
        return _fail(app.refusal)
    return app.return_code or 0


def cmd_serve(args: argparse.Namespace, config: Config) -> int:
    """``relportal serve``: checks its database and its port first, each refused in one
    line, and says it is listening only once it answers."""
    import uvicorn

    host = args.host or config.get("service", "host")
    port = args.port or config.get("service", "port")
    settings = service_settings(config, args.db, args.demo_companies, listen=(host, port))
    workers = args.workers if args.workers is not None else config.get("service", "workers")
    allowed = SCHEMA["service"]["workers"]  # the config file's rule, for the flag too
    if not allowed.check(workers):
        return _fail(f"--workers {workers}: give {allowed.expected}")
    from tui import serving

    # A folder, a read-only file, not a database: one line now, not a traceback from
    # the service's start or a failure at its first write.
    store = _open_store(settings.db_path)
    try:
        if workers > 1 and settings.demo_companies:
            # Once, before the workers start: they would race to make it.
            from journey.seed import ensure_demo

            ensure_demo(store, settings.demo_companies, settings.demo_seed, settings.demo_anchor)
    finally:
        store.close()
    listener = serving.listening_socket(host, port)
    serving.configure_logging()
    shown = f"{workers} processes, " if workers > 1 else ""
    url = listening_url(host, port)
    listening = (
        f"relportal: journey service listening on {url} ({shown}database {settings.db_path})"
    )
    from journey.links import serve_notice

    unreachable = serve_notice(settings.public_url)
    if unreachable:  # said once, with the listening line: emailed links would reach no one
        listening += "\n" + unreachable
    options = {
        "access_log": False,  # ours redacts link tokens; uvicorn's would log them
        "log_level": "warning",
        "loop": "auto",
        "http": "auto",
        # uvicorn would believe X-Forwarded-For from 127.0.0.1 by default, from any local
        # program: only service.trusted_proxies decides that (journey.proxies).
        "proxy_headers": False,
        "forwarded_allow_ips": "",
        # Long polls end at shutdown (journey.events); nothing else is held this long.
        "timeout_graceful_shutdown": 2,
    }
    if workers == 1:
        from journey.api import create_app

        app = serving.ending_long_polls(create_app(settings))
        server = uvicorn.Server(uvicorn.Config(app, **options))  # type: ignore[arg-type]
        serving.announce_when(lambda: server.started, listening)
        server.run(sockets=[listener])
        return 0 if server.started else 1

    from uvicorn.supervisors import Multiprocess

    serving.handover(config.path, settings.db_path, settings.public_url)
    multi = uvicorn.Config("tui.serving:app", factory=True, workers=workers, **options)  # type: ignore[arg-type]
    serving.announce_when(serving.answering(url), listening)
    Multiprocess(multi, sockets=[listener]).run()
    return 0


def cmd_seed(args: argparse.Namespace, config: Config) -> int:
    from journey.seed import seed_file
    from journey.storage.sqlite import StorageError

    if args.companies < 0:
        return _fail("--companies must be 0 or more")
    settings = service_settings(config, args.db)
    _open_store(settings.db_path).close()  # a folder, read-only: one line, before seeding
    try:
        result = seed_file(settings.db_path, args.companies, args.seed)
    except StorageError as exc:
        return _fail(str(exc))  # names the database already
    except sqlite3.Error as exc:
        return _fail(f"{settings.db_path}: {exc}")
    size = settings.db_path.stat().st_size / 1e6
    print(
        f"seeded {result.companies:,} companies ({result.subsidiaries:,} of them subsidiaries) "
        f"in {result.seconds:.1f} s into {settings.db_path} ({size:,.0f} MB)"
    )
    return 0


def cmd_token_create(args: argparse.Namespace, config: Config) -> int:
    """``relportal token create EMAIL``: a token for a user who exists. A new user (and a
    new organization) is made only when asked with ``--new-user``: a mistyped email must
    not quietly become a colleague with API access."""
    from journey import service
    from journey.core.domain import Role
    from journey.core.errors import Invalid, ServiceError
    from journey.seed import DEMO_ORG

    if not 1 <= args.days <= TOKEN_DAYS_MAX:
        return _fail(f"--days {args.days}: give a number of days from 1 to {TOKEN_DAYS_MAX}")
    settings = service_settings(config, args.db)
    store = _open_store(settings.db_path)
    org_name = args.org or DEMO_ORG
    role = Role(args.role or "rm")
    made: list[str] = []  # who was created, to say so

    def create(tx):  # type: ignore[no-untyped-def]
        email = service.clean_email(args.email, "email")
        org = tx.get_organization_by_name(org_name)
        if org is None and not args.new_user:
            raise Invalid(
                f"there is no organization {org_name!r} in {settings.db_path}; check --org, "
                "or add --new-user to create it with the user",
                "no_organization",
            )
        where = org_name
        if org is None:
            org = service.ensure_organization(tx, org_name)
            where = f"a new organization, {org_name}"
        user = tx.get_user_by_email(org.id, email)
        if user is None and not args.new_user:
            raise Invalid(
                f"{email} is not a user of {org_name}; check the spelling, or add --new-user "
                f"to create them (role {role.value})",
                "no_user",
            )
        if user is None:
            name = args.name or email.split("@")[0].replace(".", " ").title()
            user = service.ensure_user(tx, org, email, name, role)
            made.append(f"a new user, {name} <{email}> ({role.value}), in {where}")
        elif args.role is not None and user.role is not role:
            raise Invalid(
                f"{email} already exists with the role {user.role.value}", "role_mismatch"
            )
        return service.create_token(tx, user, label="cli", days=args.days)

    try:
        token = store.write_sync(create)
    except ServiceError as exc:
        return _fail(exc.detail)
    finally:
        store.close()
    print(token)
    if made:
        print(f"relportal: created {made[0]} ({settings.db_path})", file=sys.stderr)
    print(
        f"(a token for {args.email} in {org_name} for {args.days} days; "
        "it is shown only this once)",
        file=sys.stderr,
    )
    return 0


def cmd_token_list(args: argparse.Namespace, config: Config) -> int:
    """``relportal token list``: what is known of each token, never the secret or its hash."""
    settings = service_settings(config, args.db)
    store = _open_store(settings.db_path, write=False)
    try:

        def listed(tx):  # type: ignore[no-untyped-def]
            org_id = None
            if args.org is not None:
                org = tx.get_organization_by_name(args.org)
                if org is None:
                    return None
                org_id = org.id
            return tx.list_tokens(org_id)

        tokens = store.read_sync(listed)
    finally:
        store.close()
    if tokens is None:
        return _fail(f"--org {args.org!r}: there is no such organization")
    from journey.core.tokens import utc_iso_now

    now = utc_iso_now()
    print(f"{'ID':<22}  {'PREFIX':<9} {'EMAIL':<32} {'ROLE':<8} {'CREATED':<10} EXPIRES")
    for token, user in tokens:
        refusal = token.refusal(now)
        state = {"token_revoked": " (revoked)", "token_expired": " (expired)"}.get(
            refusal[0] if refusal else "", ""
        )
        print(
            f"{token.id:<22}  {(token.prefix + '…') if token.prefix else '-':<9} "
            f"{user.email:<32} {user.role.value:<8} {token.created_at[:10]:<10} "
            f"{(token.expires_at or 'never')[:10]}{state}"
        )
    return 0


def cmd_token_revoke(args: argparse.Namespace, config: Config) -> int:
    """``relportal token revoke ID``: refused at once, by every process on the database."""
    from journey import service
    from journey.core.errors import ServiceError

    settings = service_settings(config, args.db)
    store = _open_store(settings.db_path)
    try:
        token = store.write_sync(lambda tx: service.revoke_token(tx, args.id))
    except ServiceError as exc:
        return _fail(exc.detail)
    finally:
        store.close()
    print(f"revoked token {token.id} (at {token.revoked_at})")
    return 0


def cmd_keys(args: argparse.Namespace, config: Config) -> int:
    from tui.keys import bindable

    remapped = config.values.get("keys", {})
    for binding_id, binding in sorted(bindable().items()):
        key = remapped.get(binding_id, binding.key)
        print(f"{binding_id:<28} {key:<16} {binding.description}")
    return 0


def cmd_locate(args: argparse.Namespace, config: Config) -> int:
    settings = service_settings(config, args.db)
    rows = [
        ("config", config.path or f"{paths.default_config_file()} (not created)"),
        ("preferences", paths.preferences_file()),
        ("database", settings.db_path),
        ("outbox", settings.outbox_dir),
        ("downloads", downloads_folder(config)),
    ]
    for label, value in rows:
        print(f"{label:<12} {value}")
    return 0


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        _settle_global_options(args)
    except GlobalOptionError as exc:
        return _fail(str(exc))
    try:
        config = load(args.config, explicit=args.config is not None)
        if args.command in (None, "simulate", "ssh-serve", "web"):
            # The token goes to this service: in clear only to this machine, or if told.
            url = getattr(args, "service", None) or (
                config.get("service", "url") if args.command in (None, "simulate") else None
            )
            refuse_cleartext_service(url, insecure=args.insecure)
        if args.command is None:
            return cmd_portal(args, config)
        if args.command == "simulate":
            if not args.link.strip():
                return _fail("simulate needs a request link or its token")
            return cmd_portal(args, config, simulate=args.link)
        if args.command == "serve":
            return cmd_serve(args, config)
        if args.command == "seed":
            return cmd_seed(args, config)
        if args.command == "token":
            token_commands = {
                "create": cmd_token_create,
                "list": cmd_token_list,
                "revoke": cmd_token_revoke,
            }
            return token_commands[args.token_command](args, config)
        if args.command == "locate":
            return cmd_locate(args, config)
        if args.command == "ssh-serve":
            from tui.hosting.ssh.command import cmd_ssh_serve

            return cmd_ssh_serve(args, config)
        if args.command == "web":
            from tui.hosting.web import cmd_web

            return cmd_web(args, config)
        if args.command == "keys":
            return cmd_keys(args, config)
    except ConfigError as exc:
        return _fail(str(exc))
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # `relportal keys | head`
        sys.stderr.close()
        return 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
