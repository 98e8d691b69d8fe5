/** Our structured logger on top of a function invocation's context (Application Insights in Azure). */
import type { InvocationContext } from '@azure/functions';
import { createLogger, type Logger } from '../common/log.js';

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
