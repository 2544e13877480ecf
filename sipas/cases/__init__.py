"""Cases followed to a verified close: the workflow, what stored surveys open, and whether a measure worked."""
