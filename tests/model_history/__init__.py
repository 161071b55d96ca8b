"""Versions of a scripted model history (see ``tests/test_model_history.py``)."""
