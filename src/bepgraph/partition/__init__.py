"""Partitioned validation: the blotter split by series or year, each part validated on its own, findings merged."""
