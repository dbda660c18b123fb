"""Fixtures for the desk's page tests.

The desk tests share the shop, `unchanged`, `delays`, `queue` and
`run_on_commit_at_once` with the domain tests: those live in tests/conftest.py.
A fixture only one page uses stays in its test module.
"""
