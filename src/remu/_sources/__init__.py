"""Event sources beyond in-memory containers: Dask collections, ROOT files, awkward arrays.

Each is optional: the modules import dask, uproot or awkward only when such an
input is used (:mod:`remu._optional` names the extra to install).
"""
