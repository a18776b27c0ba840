"""The runstash HTTP gateway."""
