"""What several test modules share: the in-process service, real server processes, the
terminal and the browser they are driven with."""
