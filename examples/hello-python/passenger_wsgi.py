"""The smallest WSGI app."""
import os
import sys


def application(environ, start_response):
    body = f"Hello from Python {sys.version.split()[0]}, process {os.getpid()}\n".encode()
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
    return [body]
