"""Where the reference files of ``../shared/`` are (``REMU_SHARED`` overrides).

A module of its own (not ``conftest``): several ``conftest.py`` files exist, and
which one ``import conftest`` finds depends on the order of collection.
"""

from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("REMU_SHARED", ROOT.parent / "shared"))
SHARED_DATA = SHARED / "data"
