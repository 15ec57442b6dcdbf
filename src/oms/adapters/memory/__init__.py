"""In-memory implementations of ports, for tests of use cases without a database."""
