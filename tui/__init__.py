"""The app shell: the CLI entry point, configuration, the service client and the App."""
