"""Hosting tests: ``relportal ssh-serve`` and ``relportal web`` as real processes, the
hosted session's files and folder, and the hosts' pages."""
