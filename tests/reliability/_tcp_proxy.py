"""A TCP proxy on 127.0.0.1 that can cut the way to a server: refuse it, or black-hole it.

Put it in front of PostgreSQL and point DATABASE_URL at it. `PASS` forwards bytes both ways;
`REFUSE` closes every open connection and every new one at once (a server that went away);
`BLACK_HOLE` accepts connections and keeps what was open, but forwards nothing in either
direction (a dropped route: nothing ever answers, nothing is ever closed).
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

from sqlalchemy.engine import make_url

CHUNK_BYTES = 65_536


class Mode(enum.Enum):
    """What the proxy does with traffic."""

    PASS = "pass"
    REFUSE = "refuse"
    BLACK_HOLE = "black-hole"


@dataclass
class TcpProxy:
    """Forwards 127.0.0.1:`port` to `target_host`:`target_port`, until told otherwise."""

    target_host: str
    target_port: int
    mode: Mode = Mode.PASS
    port: int = 0
    accepted: int = 0
    _server: asyncio.Server | None = None
    _writers: set[asyncio.StreamWriter] = field(default_factory=set)
    _flowing: asyncio.Event = field(default_factory=asyncio.Event)

    async def start(self) -> TcpProxy:
        self._flowing.set()
        self._server = await asyncio.start_server(self._connection, "127.0.0.1", 0)
        self.port = int(self._server.sockets[0].getsockname()[1])
        return self

    async def stop(self) -> None:
        self._flowing.set()
        self._close_all()
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    def set_mode(self, mode: Mode) -> None:
        """Switch now: REFUSE also drops what is open; BLACK_HOLE freezes it."""
        self.mode = mode
        if mode is Mode.PASS:
            self._flowing.set()
        else:
            self._flowing.clear()
        if mode is Mode.REFUSE:
            self._close_all()

    def url_for(self, database_url: str) -> str:
        """Return `database_url` pointed at this proxy."""
        url = make_url(database_url).set(host="127.0.0.1", port=self.port)
        return url.render_as_string(hide_password=False)

    def _close_all(self) -> None:
        for writer in list(self._writers):
            writer.transport.abort()
        self._writers.clear()

    async def _connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.accepted += 1
        if self.mode is Mode.REFUSE:
            writer.transport.abort()
            return
        self._writers.add(writer)
        upstream_writer: asyncio.StreamWriter | None = None
        try:
            # A black hole answers nothing, not even the connection's first bytes.
            await self._flowing.wait()
            if self.mode is Mode.REFUSE:
                return
            upstream_reader, upstream_writer = await asyncio.open_connection(
                self.target_host, self.target_port
            )
            self._writers.add(upstream_writer)
            await asyncio.gather(
                self._pump(reader, upstream_writer), self._pump(upstream_reader, writer)
            )
        except (ConnectionError, OSError):
            pass
        finally:
            for end in (writer, upstream_writer):
                if end is not None:
                    self._writers.discard(end)
                    end.transport.abort()

    async def _pump(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while True:
            data = await reader.read(CHUNK_BYTES)
            if not data:
                writer.transport.abort()
                return
            # Bytes that arrive during a black hole are held, never delivered until it ends.
            await self._flowing.wait()
            if writer.transport.is_closing():
                return
            writer.write(data)
            await writer.drain()


@contextlib.asynccontextmanager
async def tcp_proxy(database_url: str) -> AsyncIterator[TcpProxy]:
    """Yield a started proxy in front of the server `database_url` names."""
    url = make_url(database_url)
    proxy = await TcpProxy(url.host or "127.0.0.1", url.port or 5432).start()
    try:
        yield proxy
    finally:
        await proxy.stop()
