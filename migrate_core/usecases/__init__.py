"""One module per command: the library side of the CLI (no printing, no exit codes)."""
