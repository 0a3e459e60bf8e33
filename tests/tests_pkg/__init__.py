"""Importable helpers for tests (tests/ is on sys.path): model builders given as 'tests_pkg.nets:NAME'."""
