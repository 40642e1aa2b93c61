"""packguard command line: submit packages, follow tasks, read reports, manage API keys."""
