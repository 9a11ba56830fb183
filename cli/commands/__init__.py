"""One verb per module; each exposes ``command`` and calls one library function."""
