"""What the mock remembers: the store (memory or Redis), tenants, clocks and seed fixtures."""
