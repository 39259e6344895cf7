"""Pulumi components of the digit-recognition platform, one per concern."""
