"""Files people hand the product and take from it: cell parsing, each import, templates and safe exports."""
