"""What a vendor is, shared by the mock and the harness: its spec, its fixtures, and the facts read from them."""
