"""Benchmarks: measurements printed as ratios to stated floors, never timed tests."""
