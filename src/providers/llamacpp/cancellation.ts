import { GatewayError } from "../../core/index.js";

/** The error a local request ends with when its caller aborts it (`while` says where it was, if anywhere special). */
export function canceledError(target: string, where = ""): GatewayError {
  return new GatewayError("canceled", `The request to ${target} was canceled${where}.`, { target });
}

/** Settles with `promise`, or rejects with `onAbort()` as soon as `signal` aborts (the promise itself runs on). */
export function abortable<T>(promise: Promise<T>, signal: AbortSignal, onAbort: () => GatewayError): Promise<T> {
  if (signal.aborted) return Promise.reject(onAbort());
  return new Promise((resolve, reject) => {
    const abort = () => reject(onAbort());
    signal.addEventListener("abort", abort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener("abort", abort);
        resolve(value);
      },
      (err) => {
        signal.removeEventListener("abort", abort);
        reject(err);
      },
    );
  });
}
