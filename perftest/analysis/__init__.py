"""Reads a stored run and chooses what its report says: threshold checks and findings.

``findings.analyse`` is the entry point; ``metrics`` names the figures, ``summaries`` reduces
the stored rows, ``rules`` holds the registry of checks.
"""
