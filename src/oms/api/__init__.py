"""The HTTP API (FastAPI): routers per resource, schemas, auth and problem+json errors."""
