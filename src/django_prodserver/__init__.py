"""Describe every production process of a Django project in one setting; start any with one command."""

__version__ = "0.1.0"
