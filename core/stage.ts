/** The only tap stages anyone uses: lower runs first. */
export const Stage = { first: -100, early: -10, normal: 0, late: 10, last: 100 } as const;
