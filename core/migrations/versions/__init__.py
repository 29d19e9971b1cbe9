"""Revisions of the store database, one file each, numbered 0001, 0002, ... in order."""
