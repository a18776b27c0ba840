"""Generated protobuf and gRPC code for runstash (see protos/*.proto; `make protos` regenerates)."""
