/**
 * The failure converter of the platform, loaded by path (`failureConverterPath`) so the same one
 * runs inside the workflow sandbox and in the worker, client and API. With
 * `encodeCommonAttributes` the message and stack trace of every failure travel as an encoded
 * payload, so the payload codec encrypts them like any other payload.
 *
 * Bundled into the workflow sandbox: imports only `@temporalio/common`.
 */
import { DefaultFailureConverter } from '@temporalio/common';

export const failureConverter = new DefaultFailureConverter({ encodeCommonAttributes: true });
