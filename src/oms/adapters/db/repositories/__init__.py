"""Repositories: every query of the system, each scoped by tenant."""
