"""runstash-server: the operator's commands (server, services, db, gc, import, export)."""
