"""Tests of the local API sandboxes."""
