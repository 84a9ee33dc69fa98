"""Adapters: one per AWS service, each behind a small interface."""
