"""A viewer's portal process, as ``relportal ssh-serve`` and ``relportal web`` start it.

``python -m tui.hosted_portal SESSION_HOME LIMITS``: before any of the portal's code
runs, the process takes its resource limits (:class:`tui.hosted.PortalLimits`) and
moves into the session's home; then it is the portal on that home's config. Both
servers start it the same way, so the web server's relay (which starts a shell
command) gets the same confinement as ssh-serve's pty.
"""

from __future__ import annotations

import os
import sys


def main(argv: list[str] | None = None) -> int:
    """Confine this process, then run the portal of the session at ``argv[0]``."""
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 2:
        print("relportal: tui.hosted_portal takes SESSION_HOME LIMITS", file=sys.stderr)
        return 2
    home, limits = args
    from tui.hosted import PortalLimits

    PortalLimits.from_argument(limits).apply()
    os.chdir(home)
    from tui.cli import main as portal

    return portal(["--config", os.path.join(home, "config.toml")])


if __name__ == "__main__":
    sys.exit(main())
