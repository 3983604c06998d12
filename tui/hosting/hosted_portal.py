"""A viewer's portal process, as ``relportal ssh-serve`` and ``relportal web`` start it.

``python -m tui.hosting.hosted_portal LIMITS --config SESSION_HOME/config.toml``: before any
of the portal's code runs, the process takes its resource limits
(:class:`tui.hosting.hosted.PortalLimits`) and moves into the session's home (the config's
folder); then it is the portal on that config. Both
servers start it the same way, so the web server's relay (which starts a shell
command) gets the same confinement as ssh-serve's pty.
"""

from __future__ import annotations

import os
import sys


def main(argv: list[str] | None = None) -> int:
    """Confine this process, then run the portal on the session's config."""
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 3 or args[1] != "--config":
        print("relportal: tui.hosting.hosted_portal takes LIMITS --config FILE", file=sys.stderr)
        return 2
    limits, _, config = args
    from tui.hosting.hosted import PortalLimits

    PortalLimits.from_argument(limits).apply()
    os.chdir(os.path.dirname(config))
    from tui.cli import main as portal

    return portal(["--config", config])


if __name__ == "__main__":
    sys.exit(main())
