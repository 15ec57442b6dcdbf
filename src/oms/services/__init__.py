"""Use cases: each one function, one transaction through a unit of work."""
