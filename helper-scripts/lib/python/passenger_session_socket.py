"""The app's side of the session protocol (docs/protocols.md, section 2), shared by every
Python loader: the Unix socket it listens on, and the request head the core sends.

A request head is a 4-byte big-endian length, then that many bytes of ``KEY\\0VALUE\\0``
pairs, the connect password first. The body follows. With PASSENGER_KEEP_ALIVE as the
second pair the body is exactly CONTENT_LENGTH bytes and the connection carries further
requests; without it the core half-closes once the body is complete.
"""

import hmac
import os
import secrets
import socket
import sys
from urllib.parse import unquote_to_bytes

RECV_SIZE = 65536
MAX_HEAD_SIZE = 1 << 20
# Unread request bytes we swallow before closing: closing a Unix socket with unread
# data makes the core's read fail with ECONNRESET instead of seeing a clean EOF.
DRAIN_LIMIT = 1 << 20
DRAIN_TIMEOUT_SECONDS = 1.0

PASSWORD_KEY = b'PASSENGER_CONNECT_PASSWORD'
KEEP_ALIVE_KEY = 'PASSENGER_KEEP_ALIVE'


class ClientDisconnected(Exception):
    """The core closed the connection while we were answering."""


class BadHead(Exception):
    """A request head we close the connection on, unanswered; the message says why."""


def make_log(prefix):
    """A log function writing ``<prefix>: message`` lines to stderr (forwarded by the spawner)."""
    def log(message):
        sys.stderr.write('%s: %s\n' % (prefix, message))
    return log


def listen_unix(socket_dir, kind):
    """A listening socket at ``<socket_dir>/<kind>.<pid>.<random>.sock``, usable by our user only.

    Returns (listener, path)."""
    path = os.path.join(socket_dir, '%s.%d.%s.sock' % (kind, os.getpid(), secrets.token_hex(8)))
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        previous_umask = os.umask(0o177)  # no window in which the socket is 0755
        try:
            listener.bind(path)
        except OSError as error:  # name the path: "No such file or directory" alone is a riddle
            if error.errno is None:
                raise OSError('%s: %r' % (error, path)) from None
            raise OSError(error.errno, error.strerror, path) from None
        finally:
            os.umask(previous_umask)
        listener.listen(max(socket.SOMAXCONN, 128))
    except BaseException:
        listener.close()
        raise
    return listener, path


def remove_socket_file(path):
    if path is not None:
        try:
            os.unlink(path)
        except FileNotFoundError:
            pass


def head_length(prefix):
    """The head's length from its 4-byte prefix; BadHead when it is over the limit."""
    length = int.from_bytes(prefix[:4], 'big')
    if length > MAX_HEAD_SIZE:
        raise BadHead('rejected a request head of %d bytes' % length)
    return length


def parse_head(head, password):
    """Checks the connect password (the first pair) and returns (the other pairs as a dict of
    latin-1 str, whether the core keeps the connection alive); BadHead when either is wrong."""
    key_end = head.find(b'\0')
    value_end = head.find(b'\0', key_end + 1)
    if (key_end < 0 or value_end < 0 or head[:key_end] != PASSWORD_KEY
            or not hmac.compare_digest(head[key_end + 1:value_end], password)):
        raise BadHead('closed a connection with a wrong or missing connect password')
    fields = head[value_end + 1:].decode('latin-1').split('\0')
    if fields[-1] or len(fields) % 2 == 0:
        raise BadHead('closed a connection with a malformed request head')
    keep_alive = fields[0] == KEEP_ALIVE_KEY
    variables = dict(zip(fields[0::2], fields[1::2]))
    if keep_alive:
        del variables[KEEP_ALIVE_KEY]
    return variables, keep_alive


def content_length_of(variables, keep_alive):
    """CONTENT_LENGTH as an int, or None when the body ends at EOF; an invalid value is removed."""
    value = variables.get('CONTENT_LENGTH')
    if value is not None:
        if value.isdigit():
            return int(value)
        del variables['CONTENT_LENGTH']
    return 0 if keep_alive else None  # a kept-alive request's length is always known


def is_https(variables):
    https = variables.get('HTTPS')
    return bool(https) and https.lower() in ('on', '1', 'true', 'yes')


def decode_path(path):
    """PATH_INFO is percent-decoded bytes carried in a latin-1 str (the CGI convention)."""
    if '%' not in path:
        return path
    return unquote_to_bytes(path.encode('latin-1')).decode('latin-1')


def raw_path_of(variables):
    """The request path as the client sent it, without SCRIPT_NAME (undecoded)."""
    path = variables.get('PATH_INFO')
    if path is not None:
        return path
    path = variables.get('REQUEST_URI', '/').partition('?')[0]
    script_name = variables.get('SCRIPT_NAME', '')
    if script_name and path.startswith(script_name):
        path = path[len(script_name):]
    return path
