/**
 * What every function file and handler shares with the Azure Functions host: our structured logger
 * on an invocation's context (Application Insights in Azure), and how an HTTP or queue-triggered
 * function is declared once for both hosts (`func start` and `referrals-lake serve`).
 */
import azureFunctions, {
  type HttpFunctionOptions,
  type InvocationContext,
  type StorageQueueFunctionOptions,
} from '@azure/functions';
import { createLogger, type Logger } from './log.js';

export function contextLogger(context: InvocationContext): Logger {
  return createLogger(
    (level, line) => {
      if (level === 'error') context.error(line);
      else if (level === 'warn') context.warn(line);
      else if (level === 'debug') context.debug(line);
      else context.info(line);
    },
    { fields: { invocationId: context.invocationId, functionName: context.functionName } },
  );
}

export interface HttpFunction extends HttpFunctionOptions {
  readonly name: string;
  readonly route: string;
  /**
   * Which function keys open it: 'write' for the routes that change Partner Center, whose keys are
   * not the read routes' keys (docs/security.md); 'read' when absent. The host does not read this:
   * in Azure the keys are set per function; `serve` gives each group a key of its own.
   */
  readonly keys?: 'read' | 'write';
}

/**
 * Registers an HTTP function with the host and returns its declaration: the function file exports
 * it, and `referrals-lake serve` hosts the same declarations, loaded the way the host loads them.
 */
export function httpFunction(fn: HttpFunction): HttpFunction {
  const { name, keys: _keys, ...options } = fn;
  azureFunctions.app.http(name, options);
  return fn;
}

export interface QueueFunction extends StorageQueueFunctionOptions {
  readonly name: string;
  /** The queue, or a `%SETTING%` expression the host resolves from the app settings. */
  readonly queueName: string;
  /** The name under which the host finds the storage account's settings (a connection string, or `<name>__…`). */
  readonly connection: string;
}

/**
 * Registers a Storage-queue-triggered function with the host and returns its declaration, as
 * httpFunction does: @azure/functions keeps no registrations a local host could read (outside the
 * Functions host it only warns and skips them), so `referrals-lake serve` polls the queues of the
 * declarations the function files export.
 */
export function queueFunction(fn: QueueFunction): QueueFunction {
  const { name, ...options } = fn;
  azureFunctions.app.storageQueue(name, options);
  return fn;
}
