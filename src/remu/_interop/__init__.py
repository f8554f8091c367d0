"""Bridges to other scikit-hep tools: hist (``hist.py``) and pyhf (``pyhf.py``)."""
