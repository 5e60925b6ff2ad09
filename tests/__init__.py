"""Tests for CommHub."""
