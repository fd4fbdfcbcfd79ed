"""Independent faithful implementations of the four APIs, written from the vendors' documents alone.

Each is a fixture target for the control sweep (`test_control_sweep.py`, `make control-sweep`): it
honours every documented rule and makes its own choices, in its vendor's framework, where the
documents are silent. None of them reads or imports the mock.
"""
