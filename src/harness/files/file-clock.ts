/** Seconds since the epoch: what file expiry is judged by (a test moves it on instead of waiting an hour). */
export type FileClock = () => number;

export const systemClock: FileClock = () => Math.floor(Date.now() / 1000);
