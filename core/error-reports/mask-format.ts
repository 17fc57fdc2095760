// How a masked secret looks: it still says that something is there, and how
// long it was, so a developer can tell an empty variable from a set one.

export const MASK = '••••••';

export function maskedValue(length: number): string {
  return `${MASK} (masked, ${length} characters)`;
}

export function isMasked(value: string): boolean {
  return value.startsWith(MASK);
}
