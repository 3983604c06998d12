"""Hosting the portal for others: over SSH (``relportal ssh-serve``) and in a browser
(``relportal web``), each viewer in a session of their own with a confined folder."""
