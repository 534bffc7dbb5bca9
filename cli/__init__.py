"""simmatch's command-line interface."""
