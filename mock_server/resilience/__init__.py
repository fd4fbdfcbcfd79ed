"""The vendors' documented limits and injected faults, applied around the API."""
