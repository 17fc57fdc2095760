// RFC 9110's token characters (tchar), which header names and methods are
// made of: one definition for the parsers and checks that need it, as a
// pattern for strings and, derived from it, a table for byte-by-byte scanners.

/** A whole string of one or more tchars. */
export const HTTP_TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/** 1 at the ASCII codes that are tchars, 0 elsewhere (bytes of 128 and above are never tchars). */
export const TOKEN_BYTES: Uint8Array = Uint8Array.from({ length: 128 }, (_, c) => (HTTP_TOKEN.test(String.fromCharCode(c)) ? 1 : 0));
