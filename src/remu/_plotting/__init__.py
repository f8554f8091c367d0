"""Implementation of :mod:`remu.plotting`; import from the public module instead."""
