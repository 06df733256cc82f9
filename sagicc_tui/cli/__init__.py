"""Command-line entry points of ``sagicc``; each subcommand lives in its own module."""
