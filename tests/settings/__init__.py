"""Tests for channel settings, secrets, logging and `sagicc channels`."""
