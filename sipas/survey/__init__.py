"""The survey at the counter: the tablet's plan and sync, storing a completed survey, data quality."""
