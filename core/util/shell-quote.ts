/** A word the shell reads back unchanged: as is when safe, else in single quotes. For commands shown to people. */
export function shellQuote(s: string): string {
  return /^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replaceAll("'", `'\\''`)}'`;
}
