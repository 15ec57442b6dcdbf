"""Request and response bodies, separate from domain objects and tables."""
