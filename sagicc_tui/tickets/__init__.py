"""Grouping messages into tickets: subject normalization, tags, signed ids."""
