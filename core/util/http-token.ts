// RFC 9110's token characters (tchar), which header names and methods are
// made of: one definition for the parsers and checks that need it, as a
// pattern for strings and as a table for byte-by-byte scanners.
const TCHAR_SYMBOLS = "!#$%&'*+-.^_`|~";

/** A whole string of one or more tchars. */
export const HTTP_TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/** 1 at the ASCII codes that are tchars, 0 elsewhere (bytes of 128 and above are never tchars). */
export const TOKEN_BYTES: Uint8Array = (() => {
  const table = new Uint8Array(128);
  for (const c of TCHAR_SYMBOLS) table[c.charCodeAt(0)] = 1;
  for (let c = 48; c <= 57; c++) table[c] = 1;
  for (let c = 65; c <= 90; c++) { table[c] = 1; table[c + 32] = 1; }
  return table;
})();
