"""The runstash artifact service.

Entry points: :func:`runstash_artifacts.server.serve` (standalone gRPC server),
:func:`runstash_artifacts.servicer.build_servicer` (in-process servicer) and
:class:`runstash_artifacts.resolver.ArtifactRootResolver` (how run/model routes find their root).
"""
