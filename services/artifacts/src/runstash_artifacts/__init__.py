"""The runstash artifact service."""
