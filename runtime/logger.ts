import pino, { type Logger } from 'pino';

export type { Logger };

export interface LoggerOptions {
  level: string;
  name: string;
}

/** Structured JSON logs (pino); credentials never reach them: `redact` strips known fields. */
export function createLogger(options: LoggerOptions): Logger {
  return pino({
    name: options.name,
    level: options.level,
    redact: {
      paths: [
        'authorization',
        '*.authorization',
        'headers.authorization',
        '*.secretAccessKey',
        '*.sessionToken',
        '*.token',
      ],
      censor: '[redacted]',
    },
  });
}
