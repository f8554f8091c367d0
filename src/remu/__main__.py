"""``python -m remu`` / the ``remu`` command."""

from __future__ import annotations

import sys

from remu._cli import main

if __name__ == "__main__":
    sys.exit(main())
