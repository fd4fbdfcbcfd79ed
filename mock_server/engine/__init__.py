"""Serving an operation: security, validation, dispatch to the vendor's handler, errors in the vendor's shape."""
