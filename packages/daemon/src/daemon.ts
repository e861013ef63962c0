// havipd: the control plane's services and HTTP API in one process, serving on one address.
import { dirname, resolve } from "node:path";
import { consoleDir } from "@havip/console";
import {
  buildApiServer,
  openControlService,
  type ControlService,
  type ControlServiceWithIdempotency,
  type HolderVerification,
} from "@havip/control";
import type { Logger } from "pino";
import { registerConsoleRoute } from "./console-route.ts";
import { prepareDataDir } from "./data-dir.ts";
import { agentSocketOf, startLabFabric, type LabFabric } from "./lab-fabric.ts";
import { startLeasedFabric, type FabricDriving } from "./fabric/leased.ts";
import { registerCaptureRoute } from "./fabric/capture.ts";
import { registerFabricRoutes } from "./fabric/routes.ts";
import { startFabric, type FabricRuntime } from "./fabric/runtime.ts";
import { listenUrl, type ListenAddress } from "./listen-address.ts";
import type { LogSetup } from "./log.ts";
import { DaemonMetrics, registerMetricsRoute } from "./metrics.ts";
import { loadOperatorToken } from "./operator-token.ts";
import type { DaemonOptions } from "./options.ts";
import {
  databaseFailure,
  fabricAgentFailure,
  fabricListenFailure,
  listenFailure,
  StartupError,
} from "./startup-error.ts";

/** How long opening the database may take before havipd gives up (pg has no connect timeout of its own). */
export const DATABASE_OPEN_TIMEOUT_MS = 30_000;
/** How long a graceful stop waits for open requests before cutting their connections. */
export const DRAIN_TIMEOUT_MS = 10_000;

export interface RunningDaemon {
  address: ListenAddress; // the bound address (port resolved when 0 was asked for)
  url: string;
  /** The in-process fabric (follows the control plane; VXLAN ports when --fabric-listen is given). */
  fabric: FabricRuntime;
  /** Stops accepting, lets in-flight requests finish, ends event streams, closes the store. */
  stop(drainTimeoutMs?: number): Promise<void>;
}

export async function startDaemon(options: DaemonOptions, logging: LogSetup): Promise<RunningDaemon> {
  const { logger } = logging;
  const { database } = options;
  // The data directory is needed for a generated token, the default SQLite file and the fabric's attachments.
  const usesDataDir =
    options.operatorTokenFromEnv === undefined ||
    options.fabricListen !== null ||
    options.fabricAgent !== null ||
    (options.lab ?? null) !== null ||
    (database.kind === "sqlite" && dirname(database.url) === options.dataDir);
  if (usesDataDir) await prepareDataDir(options.dataDir);

  const operator = await loadOperatorToken(options.dataDir, options.operatorTokenFromEnv);
  if (operator.source === "environment") {
    logger.info("operator token taken from HAVIP_ADMIN_TOKEN");
  } else {
    const verb = operator.source === "created" ? "generated and written to" : "read from";
    logger.info({ path: operator.path }, `operator token ${verb} ${operator.path}`);
    if (operator.tightenedMode === true)
      logger.warn({ path: operator.path }, "token file was readable by others; set to 0600");
  }

  logger.info({ database: database.display }, `opening ${database.display}`);
  const service = await openWithin(
    openControlService({
      databaseUrl: database.url,
      operatorToken: operator.token,
      // The API answers 503 ServiceUnavailable.Store meanwhile; the store reconnects by itself.
      onStoreAvailability: (available, error) => {
        if (available) logger.info({ database: database.display }, "database connection restored");
        else
          logger.warn({ database: database.display, cause: String(error) }, "database connection lost; reconnecting");
      },
    }),
    DATABASE_OPEN_TIMEOUT_MS,
  ).catch((e: unknown) => {
    throw databaseFailure(e, database);
  });

  // What drives the fabric: with --lab-dir, the lab's fabric namespace and the agent in it are set up (or adopted)
  // first, and the agent's socket drives the fabric; with --fabric-agent, that socket; else the in-process fabric.
  const metrics = new DaemonMetrics();
  const startDriving = async (): Promise<FabricDriving> => {
    let labFabric: LabFabric | undefined;
    if (options.lab !== undefined && options.lab !== null) {
      labFabric = await startLabFabric(options.lab, logger);
      labFabric.onRestart(() => {
        metrics.fabricAgentRestarted();
      });
    }
    const agentSocket = labFabric?.socket ?? options.fabricAgent;
    try {
      const runtime = await startFabric(
        service,
        logger,
        options.dataDir,
        agentSocket !== null
          ? { kind: "agent", socketPath: agentSocket }
          : { kind: "in-process", listen: options.fabricListen },
      );
      return {
        runtime,
        stop: async () => {
          await runtime.close();
          await labFabric?.stop();
        },
      };
    } catch (e) {
      await labFabric?.stop();
      if (agentSocket !== null) throw fabricAgentFailure(e, agentSocket);
      throw options.fabricListen === null ? e : fabricListenFailure(e, options.fabricListen);
    }
  };
  // Replicas on one PostgreSQL share an agent: one at a time drives it (fabric/leased.ts).
  const agentPath =
    options.lab !== undefined && options.lab !== null ? agentSocketOf(options.lab.dir) : options.fabricAgent;
  const leaseName = database.kind === "postgres" && agentPath !== null ? `fabric-agent:${resolve(agentPath)}` : null;
  let fabric: FabricRuntime;
  let stopFabric: () => Promise<void>;
  try {
    if (leaseName === null) {
      const driving = await startDriving();
      fabric = driving.runtime;
      stopFabric = () => driving.stop();
    } else {
      const leased = await startLeasedFabric({ service, leaseName, logger, start: startDriving });
      fabric = leased.runtime;
      stopFabric = () => leased.close();
    }
  } catch (e) {
    await service.close();
    throw e;
  }

  let app: Awaited<ReturnType<typeof buildApiServer>>;
  try {
    app = await buildApiServer({
      service,
      logger: logging.serverLoggerOptions,
      verifyHolder: (havipId) => verifyReport(fabric, havipId, logger),
    });
    registerFabricRoutes(app, fabric, service);
    metrics.observeRequests(app);
    registerCaptureRoute(app, fabric, service);
    registerMetricsRoute(app, metrics, () => fabric.counters());
    registerConsoleRoute(app, consoleDir());
  } catch (e) {
    await stopFabric();
    await service.close();
    throw e;
  }
  try {
    const { path, host, port } = options.listen;
    await app.listen(path !== undefined ? { path } : { host, port });
  } catch (e) {
    await app.close().catch(() => undefined);
    await stopFabric();
    await service.close();
    throw listenFailure(e, options.listen);
  }

  const bound = app.server.address();
  const address: ListenAddress =
    bound !== null && typeof bound === "object" && options.listen.path === undefined
      ? { host: options.listen.host, port: bound.port }
      : options.listen;
  const url = listenUrl(address);
  logger.info({ url }, `havipd listening on ${url}`);

  let stopping: Promise<void> | undefined;
  return {
    address,
    url,
    fabric,
    stop: (drainTimeoutMs = DRAIN_TIMEOUT_MS) => (stopping ??= stop(app, stopFabric, service, logger, drainTimeoutMs)),
  };
}

async function stop(
  app: Awaited<ReturnType<typeof buildApiServer>>,
  stopFabric: () => Promise<void>,
  service: ControlService,
  logger: Logger,
  drainTimeoutMs: number,
): Promise<void> {
  // fastify's close stops accepting, answers 503 to new requests on open connections, waits for in-flight
  // ones and closes idle keep-alive connections; the API ends its event streams in its own close hook.
  // A request still open after the drain timeout has its connection cut.
  const cut = setTimeout(() => {
    logger.warn(`requests still open after ${drainTimeoutMs} ms: closing their connections`);
    app.server.closeAllConnections();
  }, drainTimeoutMs);
  try {
    await app.close();
  } finally {
    clearTimeout(cut);
  }
  await stopFabric();
  await service.close();
  logger.info("havipd stopped");
}

/** How long a manual observation waits for the fabric's verification before it answers without it. */
const VERIFY_REPORT_TIMEOUT_MS = 3000;

/** The fabric's finding after a manual observation; null (logged) when it could not be had in time. */
async function verifyReport(
  fabric: FabricRuntime,
  havipId: string,
  logger: Logger,
): Promise<HolderVerification | null> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<null>((resolve) => {
    timer = setTimeout(() => {
      resolve(null);
    }, VERIFY_REPORT_TIMEOUT_MS);
  });
  try {
    const outcome = await Promise.race([fabric.verify(havipId), timeout]);
    if (outcome === null) return null;
    const { outcome: kind, holderVnicId, generation, answered } = outcome;
    return { outcome: kind, holderVnicId, generation, answered };
  } catch (e) {
    logger.warn({ err: e, havipId }, "a manual observation could not be verified by the fabric");
    return null;
  } finally {
    clearTimeout(timer);
  }
}

async function openWithin(
  opening: Promise<ControlServiceWithIdempotency>,
  ms: number,
): Promise<ControlServiceWithIdempotency> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      reject(new StartupError(`the database did not answer within ${ms / 1000} s`));
    }, ms);
  });
  try {
    return await Promise.race([opening, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
