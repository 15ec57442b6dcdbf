"""The operations portal under ``/app``: server-rendered pages that drive the same use
cases as the API (docs/portal.md)."""
