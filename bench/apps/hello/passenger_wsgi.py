"""Hello world for the bench (WSGI): our server, Passenger 6 and gunicorn all load
this file. Routes: / (tiny body), /1mib, POST /upload (counts the body),
/sleep?ms=N (keeps the process busy, for the spawn measurement), /pid."""
import os
import time

HELLO = b'hello world\n'
MIB = b'x' * 1048576


def count_body(stream):
    total = 0
    chunk = stream.read(65536)
    while chunk:
        total += len(chunk)
        chunk = stream.read(65536)
    return total


def application(environ, start_response):
    path = environ.get('PATH_INFO', '/')
    if path == '/1mib':
        body, kind = MIB, 'application/octet-stream'
    elif path == '/upload':
        body, kind = b'%d\n' % count_body(environ['wsgi.input']), 'text/plain'
    elif path == '/pid':
        body, kind = str(os.getpid()).encode(), 'text/plain'
    elif path == '/sleep':
        query = environ.get('QUERY_STRING', '')
        time.sleep(int(query.partition('ms=')[2] or '0') / 1000.0)
        body, kind = b'slept\n', 'text/plain'
    else:
        body, kind = HELLO, 'text/plain'
    start_response('200 OK', [('Content-Type', kind), ('Content-Length', str(len(body)))])
    return [body]
