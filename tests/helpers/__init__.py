"""Shared test helpers: study factories, reference files, report inputs, reference scorers.

Test modules import from here (``from helpers.studies import make_study``) or use the
fixtures of ``tests/conftest.py``; they never import from one another.
"""
