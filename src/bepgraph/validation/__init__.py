"""Judging the graph against the rules of rules.md as of a date; the findings every door serves."""
