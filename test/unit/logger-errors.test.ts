/**
 * Errors in log lines keep their message, type and stack: under `err`, under any other field
 * (the Temporal SDK logs "Workflow failed" with `{ error }`), nested, in arrays, from another
 * realm (the workflow sandbox), and through the SDK's `DefaultLogger` as the worker wires it.
 */
import { Writable } from 'node:stream';
import vm from 'node:vm';
import { ApplicationFailure } from '@temporalio/common';
import { DefaultLogger } from '@temporalio/worker';
import { createLogger, temporalLogFunction } from '../../runtime/logger';

interface SerializedError {
  type: string;
  message: string;
  stack: string;
  cause?: SerializedError;
}

function capture() {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(...String(chunk).split('\n').filter(Boolean));
      done();
    },
  });
  const logger = createLogger({ name: 'test', level: 'trace', destination });
  return { logger, lines: () => lines.map((line) => JSON.parse(line) as Record<string, unknown>) };
}

test('an Error under `error` keeps message, type, stack and cause', () => {
  const { logger, lines } = capture();
  logger.warn({ error: new Error('boom', { cause: new RangeError('root cause') }) }, 'failed');
  const [line] = lines();
  const error = line?.error as SerializedError;
  expect(error.type).toBe('Error');
  expect(error.message).toBe('boom');
  expect(error.stack).toMatch(/^Error: boom\n\s+at /);
  expect(error.stack).toContain('logger-errors.test.ts');
  expect(error.cause).toMatchObject({ type: 'RangeError', message: 'root cause' });
  expect(error.cause?.stack).toMatch(/^RangeError: root cause\n\s+at /);
});

test('`err`, nested fields, arrays and Errors from another realm are serialised', () => {
  const { logger, lines } = capture();
  const foreign = vm.runInNewContext('new TypeError("from the sandbox")') as Error;
  expect(foreign instanceof Error).toBe(false);
  logger.error({ err: new SyntaxError('top') }, 'err field');
  logger.error({ details: { error: foreign }, errors: [new Error('in a list')] }, 'nested');
  const [first, second] = lines();
  expect(first?.err).toMatchObject({ type: 'SyntaxError', message: 'top' });
  expect((first?.err as SerializedError).stack).toMatch(/^SyntaxError: top\n/);
  const nested = (second?.details as { error: SerializedError }).error;
  expect(nested).toMatchObject({ type: 'TypeError', message: 'from the sandbox' });
  expect(nested.stack).toMatch(/^TypeError: from the sandbox\n\s+at /);
  expect((second?.errors as SerializedError[])[0]).toMatchObject({ message: 'in a list' });
});

test('the Temporal DefaultLogger wired as in workers/main.ts logs "Workflow failed" with the error', () => {
  const { logger, lines } = capture();
  const temporal = new DefaultLogger('WARN', temporalLogFunction(logger));
  const failure = ApplicationFailure.create({
    type: 'SessionFailed',
    message: 'session ses_1 failed: step a failed',
    nonRetryable: true,
  });
  temporal.warn('Workflow failed', { error: failure, sdkComponent: 'worker', workflowId: 'ses_1' });
  temporal.info('below the level', { error: new Error('not logged') });
  const logged = lines();
  expect(logged).toHaveLength(1);
  expect(logged[0]).toMatchObject({ level: 40, msg: 'Workflow failed', workflowId: 'ses_1' });
  const error = logged[0]?.error as SerializedError & { type: string };
  expect(error.message).toBe('session ses_1 failed: step a failed');
  expect(error.type).toBe('ApplicationFailure');
  expect(error.stack).toMatch(/ApplicationFailure: session ses_1 failed: step a failed\n\s+at /);
});

test('redaction still applies next to serialised errors', () => {
  const { logger, lines } = capture();
  logger.info({ authorization: 'Bearer x', error: new Error('e'), creds: { token: 't' } }, 'r');
  expect(lines()[0]).toMatchObject({
    authorization: '[redacted]',
    creds: { token: '[redacted]' },
    error: { message: 'e' },
  });
});
