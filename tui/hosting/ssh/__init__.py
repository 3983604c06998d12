"""``relportal ssh-serve``: the portal over SSH, a portal of their own for each viewer.

Every shell session gets its own ``HostedSession`` (a private home and demo database,
or a named user's view of a service) and its own process, on a real pseudo-terminal
sized to the viewer's window. The server grants nothing else: no commands, no
subsystems (SFTP), no port, agent or X11 forwarding, one session per connection.
The gate before sign-in is small (a waiting room with early drops, as sshd's
MaxStartups, and a short login grace); a growing pause after each failed attempt from
an address is waited out before its next attempt is checked, on any connection.
Limits: sessions at once in all and per client address, connections per address,
idle and total session time. What a session saves is offered at a download link of
its own (tui/hosting/download_links.py). docs/ssh.md describes the security model.

The modules, each importing only those listed after it: ``command`` (the command
line's entry: settings, keys, then serve until stopped), ``server`` (the asyncssh
server, its connections and the viewers' sessions), ``gate`` (admission and failed
logins, by address), ``credentials`` (host key, authorized keys, demo password),
``terminal`` (the pty and the portal's process), ``settings`` (``[ssh]`` and the flags).
"""

import warnings

with warnings.catch_warnings():
    # asyncssh names DSA key types as it is imported, and cryptography 51 and newer warn
    # about DSA on each such name: two warnings on stderr at every start, before the
    # server's one line, for a key type ssh-serve never offers. Here, because every
    # module of the package is imported after this one.
    warnings.filterwarnings("ignore", message="DSA is deprecated")
    import asyncssh  # noqa: F401
