"""The runstash metadata service."""
