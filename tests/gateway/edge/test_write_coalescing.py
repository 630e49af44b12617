"""Writes joined per loop turn (`gateway/edge/write_coalescing.py`), over real TCP connections."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest

from gateway.edge.write_coalescing import CoalescingTransport

pytestmark = pytest.mark.anyio


@dataclass
class Pair:
    """A real loopback connection: the server's side wrapped, the peer a plain non-blocking socket."""

    wrapped: CoalescingTransport
    inner: asyncio.Transport
    peer: socket.socket

    def readable_now(self) -> bytes:
        try:
            return self.peer.recv(65536)
        except BlockingIOError:
            return b""

    async def read_until_closed(self) -> bytes:
        loop = asyncio.get_running_loop()
        chunks = []
        while chunk := await loop.sock_recv(self.peer, 65536):
            chunks.append(chunk)
        return b"".join(chunks)


@pytest.fixture
async def pair() -> AsyncIterator[Pair]:
    loop = asyncio.get_running_loop()
    accepted: asyncio.Future[asyncio.Transport] = loop.create_future()

    class Server(asyncio.Protocol):
        def connection_made(self, transport: asyncio.BaseTransport) -> None:
            assert isinstance(transport, asyncio.Transport)
            accepted.set_result(transport)

    server = await loop.create_server(Server, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    peer = socket.create_connection(("127.0.0.1", port))
    peer.setblocking(False)
    inner = await accepted
    yield Pair(CoalescingTransport(inner, loop), inner, peer)
    peer.close()
    inner.abort()
    server.close()
    await server.wait_closed()


async def settle() -> None:
    """Let the loop finish its turn and the kernel deliver on loopback."""
    await asyncio.sleep(0)
    await asyncio.sleep(0.01)


async def test_the_writes_of_one_turn_leave_together_when_the_turn_ends(pair: Pair) -> None:
    pair.wrapped.write(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n")
    pair.wrapped.writelines([b"o", bytearray(b"k")])
    # A plain transport would have sent the first write already, and loopback delivers at once.
    assert pair.readable_now() == b""
    await settle()
    assert pair.readable_now() == b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok"


async def test_until_the_turn_ends_the_kept_bytes_count_as_buffered(pair: Pair) -> None:
    pair.wrapped.write(b"12345")
    assert pair.wrapped.get_write_buffer_size() == 5
    await settle()
    assert (pair.wrapped.get_write_buffer_size(), pair.readable_now()) == (0, b"12345")


async def test_closing_writes_what_is_kept_first(pair: Pair) -> None:
    pair.wrapped.write(b"last words")
    pair.wrapped.close()
    assert pair.wrapped.is_closing()
    assert await pair.read_until_closed() == b"last words"


async def test_aborting_drops_what_is_kept(pair: Pair) -> None:
    pair.wrapped.write(b"never sent")
    pair.wrapped.abort()
    assert await pair.read_until_closed() == b""


async def test_bytes_written_as_a_buffer_are_copied_when_written(pair: Pair) -> None:
    buffer = bytearray(b"before")
    pair.wrapped.write(buffer)
    buffer[:] = b"after!"
    await settle()
    assert pair.readable_now() == b"before"


async def test_writes_after_the_transport_closed_are_dropped_quietly(pair: Pair) -> None:
    pair.wrapped.write(b"too late")
    pair.inner.close()
    await settle()
    assert await pair.read_until_closed() == b""


async def test_what_it_does_not_join_is_the_connections_own(pair: Pair) -> None:
    assert pair.wrapped.get_extra_info("peername") == pair.inner.get_extra_info("peername")
    assert pair.wrapped.get_protocol() is pair.inner.get_protocol()
    pair.wrapped.pause_reading()
    assert (pair.wrapped.is_reading(), pair.inner.is_reading()) == (False, False)
    pair.wrapped.resume_reading()
    pair.wrapped.set_write_buffer_limits(high=4096, low=1024)
    assert pair.wrapped.get_write_buffer_limits() == (1024, 4096)
    assert pair.wrapped.can_write_eof()
    pair.wrapped.write(b"half")
    pair.wrapped.write_eof()
    assert await pair.read_until_closed() == b"half"
