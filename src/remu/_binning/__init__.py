"""The implementation behind :mod:`remu.binning`, split by concept."""
