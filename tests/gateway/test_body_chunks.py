"""The upload body re-cut into service-sized pieces: every byte once, in order, pieces of exactly
the configured size (the last one shorter), whatever sizes the HTTP server read them in."""

from __future__ import annotations

import asyncio
import random

import pytest
from runstash_gateway.asgi import Message
from runstash_gateway.body import BodyChunks

SIZE = 1000


def receiver(reads: list[bytes]) -> tuple[BodyChunks, bytes]:
    messages: list[Message] = [
        {"type": "http.request", "body": read, "more_body": index < len(reads) - 1}
        for index, read in enumerate(reads)
    ]

    async def receive() -> Message:
        return messages.pop(0)

    return BodyChunks(receive, SIZE, timeout_s=5), b"".join(reads)


async def pieces_of(chunks: BodyChunks) -> list[bytes]:
    return [piece async for piece in chunks]


@pytest.mark.parametrize(
    "sizes",
    [
        [SIZE],  # one read that is exactly one piece
        [SIZE * 3 + 7],  # one read holding several pieces
        [400, 600, 1000, 1],  # reads that end exactly on a piece boundary, then a straggler
        [0, 333, 0, 999, 2500, 0, 1],  # empty reads in between
        [random.Random(7).randint(1, 3000) for _ in range(50)],
    ],
)
def test_pieces_are_exact_and_in_order(sizes: list[int]) -> None:
    rng = random.Random(sum(sizes))
    chunks, body = receiver([rng.randbytes(size) for size in sizes])
    pieces = asyncio.run(pieces_of(chunks))
    assert b"".join(pieces) == body
    assert all(type(piece) is bytes for piece in pieces)
    assert [len(piece) for piece in pieces[:-1]] == [SIZE] * (len(pieces) - 1)
    assert 0 < len(pieces[-1]) <= SIZE


def test_first_piece_is_yielded_again_and_an_empty_body_has_none() -> None:
    chunks, body = receiver([b"a" * 1500, b"b" * 10])

    async def run() -> tuple[bytes | None, list[bytes]]:
        return await chunks.first(), await pieces_of(chunks)

    first, pieces = asyncio.run(run())
    assert first == b"a" * SIZE and pieces[0] is first and b"".join(pieces) == body
    empty, _ = receiver([b""])
    assert asyncio.run(empty.first()) is None
