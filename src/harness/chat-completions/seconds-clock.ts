/** Seconds since the epoch: what retention is judged by (a test moves it on instead of waiting 30 days). */
export type SecondsClock = () => number;

export const systemSeconds: SecondsClock = () => Math.floor(Date.now() / 1000);
