"""Typed errors. An InputError is bad user input: the CLI prints one line and exits 2."""

__all__ = ["InputError"]


class InputError(ValueError):
    """Bad user input: an unknown name, a malformed or unsafe expression, a bad number."""
