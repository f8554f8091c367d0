"""The version of remu, in one place."""

__version__ = "0.9.0.dev0"
