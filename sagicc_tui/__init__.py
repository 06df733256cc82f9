"""sagicc-tui: a terminal console for customer-service email channels."""

__version__ = "0.1.0"
