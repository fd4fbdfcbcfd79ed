"""Recorded exchanges in HAR 1.2: written by the mock's journal and the proxy, read by drift and scenario export.

A bottom layer, so that the mock and the harness both use it without importing each other.
"""
