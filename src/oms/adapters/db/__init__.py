"""The database adapter: tables, repositories, the unit of work and migrations."""
