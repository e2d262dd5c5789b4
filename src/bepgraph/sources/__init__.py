"""Readers of the two sources of facts: the plan filing and a facts bundle."""
