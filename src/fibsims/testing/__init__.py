"""Test doubles and checks derived from the instrument interfaces, for backends and tests."""
