"""The satisfaction index and what is read from it: scoring, statistics, baseline comparison, comments."""
