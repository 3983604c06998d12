"""``relportal ssh-serve``: settings, credentials and host key first (each bad one a
one-line ``ConfigError``), then the server, until SIGINT or SIGTERM ends every session."""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys

import asyncssh

from tui.config import Config, ConfigError
from tui.hosting.hosted import refuse_root
from tui.hosting.ssh.credentials import Credentials, host_key, read_authorized_keys
from tui.hosting.ssh.server import PortalServer
from tui.hosting.ssh.settings import SshSettings, settings_from


async def serve(
    settings: SshSettings,
    credentials: Credentials,
    key: asyncssh.SSHKey,
    password: str | None = None,
) -> int:
    """Listen until SIGINT or SIGTERM; then end every session. ``password``, if any, is
    shown once it is listening (never when it could not start)."""
    server = PortalServer(settings, credentials)
    try:
        acceptor = await server.start(key)
    except OSError as exc:
        from tui.serving import cannot_listen

        raise ConfigError(cannot_listen(settings.host, settings.port, exc)) from None
    if settings.downloads_port is not None:
        try:
            await server.downloads.start(settings.host, settings.downloads_port)
        except OSError as exc:
            acceptor.close()
            from tui.serving import cannot_listen

            why = cannot_listen(settings.host, settings.downloads_port, exc, "--downloads-port")
            raise ConfigError(f"download links: {why} (or set [ssh] downloads = false)") from None
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    data = (
        f"{settings.hosted.attach.url} as the token's user"
        if settings.hosted.attach
        else f"a private demo organization ({settings.hosted.demo_companies} companies)"
    )
    print(
        f"relportal: ssh-serve listening on {settings.host}:{settings.port}; "
        f"each session gets {data}; host key {key.get_fingerprint()}"
        + (f"; download links on {server.downloads.base_url}" if server.downloads.enabled else ""),
        file=sys.stderr,
        flush=True,
    )
    if password is not None:
        # Shown once, to the operator only; it is never logged.
        print(f"relportal: demo password (any user name): {password}", flush=True)
    try:
        await stop.wait()
    finally:
        acceptor.close()
        await server.shut_down()
        await server.downloads.stop()
        await acceptor.wait_closed()
    return 0


def cmd_ssh_serve(args: argparse.Namespace, config: Config) -> int:
    """``relportal ssh-serve``: run until interrupted; bad settings raise ConfigError."""
    settings = settings_from(args, config)
    if settings.authorized_keys is not None:
        credentials = Credentials(authorized_keys=read_authorized_keys(settings.authorized_keys))
        password = None
    else:
        credentials, password = Credentials.demo_password()
    # After the flags' own checks (their messages say more), before anything is written.
    refuse_root("ssh-serve", getattr(args, "allow_root", False))
    key = host_key(settings.host_key_path)
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    logging.getLogger("asyncssh").setLevel(logging.WARNING)  # it logs every channel request
    try:
        return asyncio.run(serve(settings, credentials, key, password))
    except KeyboardInterrupt:
        return 130
