"""End-to-end tests: a real ``relportal serve`` (or the command line) as a process, real
clients and a real browser."""
