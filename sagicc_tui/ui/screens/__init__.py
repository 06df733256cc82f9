"""Screens of the console, one a module."""
