"""Benchmarks that print figures (`make bench`); speed is never asserted in tests."""
