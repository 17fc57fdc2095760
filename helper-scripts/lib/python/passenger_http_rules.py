"""What every Python loader checks in an app's response before the core sees it, and the
500 it sends when the app fails before answering. The core validates again (a response
it rejects becomes a 502); checking here names the app's mistake in the app's log."""

import re

# The core owns the connection and the loader owns the framing, so an app's hop-by-hop headers are dropped.
HOP_BY_HOP_HEADERS = frozenset((
    'connection', 'keep-alive', 'proxy-authenticate', 'proxy-authorization',
    'te', 'trailer', 'trailers', 'transfer-encoding', 'upgrade',
))

is_token = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+\Z").match
is_token_bytes = re.compile(rb"[!#$%&'*+\-.^_`|~0-9A-Za-z]+\Z").match
has_forbidden_value_char = re.compile(r'[\r\n\0]').search
has_forbidden_value_byte = re.compile(rb'[\r\n\0]').search

INTERNAL_ERROR_BODY = b'Internal Server Error\n'
INTERNAL_ERROR_HEAD = (
    b'HTTP/1.1 500 Internal Server Error\r\n'
    b'Content-Type: text/plain; charset=utf-8\r\n'
    b'Content-Length: %d\r\n\r\n' % len(INTERNAL_ERROR_BODY)
)


def status_forbids_body(code):
    """1xx, 204 and 304 responses never have a body (RFC 9110)."""
    return code < 200 or code == 204 or code == 304


def parse_content_length(value):
    value = value.strip()
    if not (value.isascii() and value.isdigit()):
        raise ValueError('invalid Content-Length %r' % value)
    return int(value)
