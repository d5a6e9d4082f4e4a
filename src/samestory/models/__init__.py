"""Trained artifacts shipped with the package (see training/README.md)."""
