"""Free TCP ports on 127.0.0.1 for the servers a test starts."""

from __future__ import annotations

import random
import socket


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _port_is_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def free_port_with_grpc_twin(offset: int = 10000) -> int:
    """A free port P (<= 55535) whose P + offset is free too (SeaweedFS puts gRPC there)."""
    rng = random.Random()
    for _ in range(200):
        port = rng.randint(20000, 45000)
        if _port_is_free(port) and _port_is_free(port + offset):
            return port
    raise RuntimeError("no free port pair found")
