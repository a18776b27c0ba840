"""runstash: remote experiment tracking. Client API and the `runstash` command line."""
