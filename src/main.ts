import path from 'node:path';
import { buildApp } from './app.ts';
import { bootstrap } from './bootstrap.ts';
import { ConfigError, loadConfig, type Config } from './config.ts';
import { acquireDataDirLock, DataDirLockedError } from './datadir-lock.ts';
import { openPglite, openPostgres } from './db/database.ts';
import { migrate } from './db/migrator.ts';
import { createDeps, createLogger } from './deps.ts';
import { startMaintenance } from './maintenance.ts';

function fail(message: string, code: number): never {
  process.stderr.write(`sprintlane: ${message}\n`);
  process.exit(code);
}

async function main(): Promise<void> {
  // performance.now() counts from the start of the process: this is the time modules took to load.
  const started = performance.now();
  const phases: Record<string, number> = { modules_ms: Math.round(started) };
  let mark = started;
  const phase = (name: string) => {
    const now = performance.now();
    phases[name] = Math.round(now - mark);
    mark = now;
  };
  let config: Config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) fail(`configuration error: ${err.message}`, 2);
    throw err;
  }
  const logger = createLogger(config);
  let lock: { release(): void } | undefined;
  if (!config.databaseUrl) {
    try {
      lock = acquireDataDirLock(config.dataDir);
    } catch (err) {
      if (err instanceof DataDirLockedError) fail(err.message, 1);
      throw err;
    }
  }
  const database = config.databaseUrl
    ? await openPostgres(config.databaseUrl, config.statementTimeoutMs, config.dbPoolSize, config.dbPrepare)
    : await openPglite({
        dataDir: path.join(config.dataDir, 'pgdata'),
        // Without its database the process can only fail requests: exit, so a supervisor restarts it.
        onFatal: (err) => {
          logger.fatal({ err }, 'the embedded database stopped');
          lock?.release();
          process.exit(1);
        },
      });
  phase('database_ms');
  const deps = createDeps(config, database, { logger });
  // Built before the migrations run: the embedded database's worker is still starting meanwhile
  // (see openPglite), and nothing here queries it.
  const app = await buildApp(deps);
  phase('app_ms');
  const applied = await migrate(database);
  phase('migrations_ms');
  if (applied.length) logger.info({ migrations: applied }, 'migrations applied');

  const boot = await bootstrap(deps);
  phase('bootstrap_ms');
  if (boot) {
    const lines = [
      '',
      `Sprintlane: first start. Created the owner ${boot.email} (instance administrator), the workspace "${boot.workspaceSlug}"`,
      boot.secret
        ? `and an admin API key (${boot.keyId}). It is shown only this once; store it now:\n\n    ${boot.secret}\n`
        : `and an admin API key (${boot.keyId}) whose secret is the SPRINTLANE_ADMIN_TOKEN you gave.\n`,
    ];
    process.stdout.write(lines.join('\n') + '\n');
  }

  const maintenance = startMaintenance(deps);
  deps.webhookWorker.start();
  let closing = false;
  const shutdown = async (signal: string) => {
    if (closing) return;
    closing = true;
    logger.info({ signal }, 'shutting down: draining requests');
    const force = setTimeout(() => fail('shutdown took longer than 20 s; exiting', 1), 20_000);
    force.unref();
    try {
      maintenance.stop();
      await app.close();
      // In-flight deliveries finish (each within the webhook timeout); the rest wait in the database.
      await deps.webhookWorker.stop();
      await database.close();
      lock?.release();
      logger.info('stopped cleanly');
      process.exit(0);
    } catch (err) {
      logger.error({ err }, 'shutdown failed');
      process.exit(1);
    }
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));

  await app.listen({ host: config.host, port: config.port });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  phase('listen_ms');
  logger.info(
    {
      url: `${config.tlsCert ? 'https' : 'http'}://${config.host}:${port}`,
      database: database.kind,
      startup_ms: Math.round(performance.now()),
      ...phases,
    },
    'Sprintlane is listening',
  );
}

main().catch((err: unknown) => {
  process.stderr.write(`sprintlane: failed to start: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
