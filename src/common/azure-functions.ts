/**
 * What every function file and handler shares with the Azure Functions host: our structured logger
 * on an invocation's context (Application Insights in Azure), and how an HTTP function is declared
 * once for both hosts (`func start` and `referrals-lake serve`).
 */
import azureFunctions, { type HttpFunctionOptions, type InvocationContext } from '@azure/functions';
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
}

/**
 * Registers an HTTP function with the host and returns its declaration: the function file exports
 * it, and `referrals-lake serve` hosts the same declarations, loaded the way the host loads them.
 */
export function httpFunction(fn: HttpFunction): HttpFunction {
  const { name, ...options } = fn;
  azureFunctions.app.http(name, options);
  return fn;
}
