/** What the driver tells an API process of the load test (api-process.ts), and its ready line. */
import type { BenchApiOptions } from '../../env/api';

/** Environment variable carrying the JSON `ApiProcessConfig`. */
export const API_LOAD_PROCESS_CONFIG = 'API_LOAD_PROCESS_CONFIG';
/** Printed (then JSON `{ url, token }`) once the API listens. */
export const API_LOAD_READY = 'API_LOAD_READY';

export type ApiProcessConfig =
  | ({ kind: 'ours' } & BenchApiOptions)
  | {
      kind: 'raw';
      temporalAddress: string;
      namespace: string;
      taskQueue: string;
      tenantId: string;
      pageSize: number;
    };
