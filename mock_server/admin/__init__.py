"""The admin API under /__admin: reset, state, requests, clock, records, limits and faults."""
