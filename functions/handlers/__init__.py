"""Lambda entry points: ``functions.handlers.<name>.handler`` (docs/INTERFACES.md)."""
