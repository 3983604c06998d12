"""What several test modules share, so that no test module imports another: the
in-process service, real server processes (serve, ssh-serve, web), the command line and
a pty terminal, Pilot walks of the portal, and the helpers of the journeys, the machine,
the company list and supplier files."""
