"""Hello world for the bench (ASGI): our server and uvicorn both load this file.
Routes: / (tiny body), /1mib, POST /upload (counts the body), /sleep?ms=N, /pid."""
import asyncio
import os

HELLO = b'hello world\n'
MIB = b'x' * 1048576


async def application(scope, receive, send):
    if scope['type'] != 'http':
        return  # no lifespan to run; returning tells the server so
    path = scope['path']
    if path == '/1mib':
        body, kind = MIB, b'application/octet-stream'
    elif path == '/upload':
        total = 0
        while True:
            message = await receive()
            total += len(message.get('body', b''))
            if not message.get('more_body'):
                break
        body, kind = b'%d\n' % total, b'text/plain'
    elif path == '/pid':
        body, kind = str(os.getpid()).encode(), b'text/plain'
    elif path == '/sleep':
        query = scope['query_string'].decode()
        await asyncio.sleep(int(query.partition('ms=')[2] or '0') / 1000.0)
        body, kind = b'slept\n', b'text/plain'
    else:
        body, kind = HELLO, b'text/plain'
    await send({'type': 'http.response.start', 'status': 200,
                'headers': [(b'content-type', kind), (b'content-length', b'%d' % len(body))]})
    await send({'type': 'http.response.body', 'body': body})
