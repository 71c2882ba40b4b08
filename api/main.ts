/** The API process: validated config from the environment; stops cleanly on SIGINT/SIGTERM. */
import { loadApiConfig } from '../runtime/config';
import { createLogger } from '../runtime/logger';
import { startTracing } from '../runtime/tracing';
import { startApiServer } from './server';

async function main(): Promise<void> {
  const config = loadApiConfig();
  // OTEL_EXPORTER_OTLP_ENDPOINT or TRACING_ENABLED turns tracing on (runtime/tracing).
  const tracing = startTracing({ serviceName: 'tdev-api' });
  const logger = createLogger({
    name: 'api',
    level: config.logging.LOG_LEVEL,
    traceIds: tracing !== undefined,
  });
  const api = await startApiServer(config, logger);
  logger.info({ url: api.url, tracing: tracing ? 'on' : 'off' }, 'API listening');
  const stop = (signal: string): void => {
    logger.info({ signal }, 'API stopping');
    api
      .close()
      .then(() => tracing?.shutdown())
      .then(
        () => process.exit(0),
        (error: unknown) => {
          logger.error({ err: error }, 'API stop failed');
          process.exit(1);
        },
      );
  };
  process.once('SIGINT', () => stop('SIGINT'));
  process.once('SIGTERM', () => stop('SIGTERM'));
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
