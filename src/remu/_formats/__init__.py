"""The files remu reads and writes, one module per format (both directions).

``npz_archive``
    Reading any ``.npz`` archive eagerly, with errors that name the file.
``npz_response``
    Exported response matrices (``ResponseMatrix.export``,
    ``ResponseMatrixArrayBuilder.export``; read by ``ResponseMatrixPredictor``
    and ``remu info``).
``histogram``
    The filled binnings written by ``remu fill`` (``.npz`` or ``.csv``) and read
    by ``remu info``.
``csv_events``
    Event tables in CSV (``Binning.fill_from_csv_file``).
``yaml_codec`` and ``yaml_tags``
    YAML documents: the fast loader and dumper behind :mod:`remu.yaml`, with the
    limits that protect against hostile documents, and the ``!ClassName`` tags of
    the binning classes.

Nothing here imports a public module of remu (:mod:`remu.binning`,
:mod:`remu.yaml`, ...): the public modules are facades over these.
"""
