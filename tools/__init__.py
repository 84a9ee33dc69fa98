"""Generators and checks run by make and by the tests (not deployed)."""
