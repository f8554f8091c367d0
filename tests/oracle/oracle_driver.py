"""Long-lived worker that runs scenarios with the reference remu 0.8.0.

Run by ``.venv-oracle/bin/python tests/oracle/oracle_driver.py`` (see
``conftest.py``). It reads one JSON request per line on stdin::

    {"scenario": "scenarios_binning.describe", "input": "in.npz", "output": "out.npz"}

loads the list of cases from ``input``, runs the scenario function on each case
(an exception becomes an error record for that case), writes the list of results
to ``output`` and answers one JSON line ``{"ok": true}`` (or ``{"ok": false,
"error": ...}`` when the request itself failed). Anything the reference prints goes
to stderr, so stdout carries only the protocol.
"""

from __future__ import annotations

import importlib
import json
import os
import sys
import traceback
import warnings


def main() -> int:
    # keep the protocol channel private: whatever else writes to fd 1 lands on stderr
    proto = os.fdopen(os.dup(1), "w", buffering=1)
    os.dup2(2, 1)
    sys.stdout = sys.stderr

    warnings.simplefilter("ignore")  # deprecation noise of the numpy<2 / scipy<1.12 stack
    import oracle_exchange

    oracle_exchange.SIDE = "oracle"
    import remu.binning  # noqa: F401  (fail early, and pay the import once)

    for line in sys.stdin:
        line = line.strip()
        if not line:
            continue
        try:
            request = json.loads(line)
            module_name, func_name = request["scenario"].rsplit(".", 1)
            func = getattr(importlib.import_module(module_name), func_name)
            cases = oracle_exchange.load_payload(request["input"])
            results = oracle_exchange.run_cases(func, cases)
            oracle_exchange.write_atomic(results, request["output"])
            answer = {"ok": True}
        except Exception:  # noqa: BLE001  (reported to the test process)
            answer = {"ok": False, "error": traceback.format_exc()}
        proto.write(json.dumps(answer) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
