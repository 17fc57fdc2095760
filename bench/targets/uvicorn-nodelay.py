"""Runs uvicorn for the bench with TCP_NODELAY on its worker connections.

uvicorn 0.17 (Debian's) hands the listening socket to its --workers children
rebuilt from a file descriptor, with proto 0; asyncio sets TCP_NODELAY only on
sockets whose proto is IPPROTO_TCP, so each worker answers with Nagle on, and a
response written as head then body waits for the client's delayed ACK (~40 ms:
20 req/s at c=1). One uvicorn without --workers is not affected. This patch
runs in the children too (spawn re-imports this file as __mp_main__), so the
bench compares HTTP stacks, not that accident."""
import asyncio.base_events
import socket
import sys


def _set_nodelay(sock):
    if sock.family in (socket.AF_INET, socket.AF_INET6) and sock.type == socket.SOCK_STREAM:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


asyncio.base_events._set_nodelay = _set_nodelay

if __name__ == '__main__':
    import uvicorn.main
    sys.exit(uvicorn.main.main())
