# Node.js for the UI build: this machine's Node (Debian's nodejs is 18, too old for vite) on the
# local Python base; node.tar is made by local-bases.sh from the installed files.
ARG BASE=runstash-local/python:3.11
FROM ${BASE}
ADD node.tar /
