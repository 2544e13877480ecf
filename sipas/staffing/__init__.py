"""Waiting times at the counter and the counters needed (Erlang C), with the advice per hour."""
