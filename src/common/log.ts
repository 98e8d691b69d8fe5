/**
 * One structured logger for every entry point. Outside a TTY each line is one JSON object; the run
 * and correlation ids ride on every line. All text passes through redact() on the way out.
 */
import { redact } from './redact.js';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
export type LogFields = Readonly<Record<string, unknown>>;

export interface Logger {
  debug(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
  /** A logger that adds these fields to every line. */
  child(fields: LogFields): Logger;
}

/** Where formatted lines go: stderr for the CLI, the InvocationContext in a function, an array in tests. */
export type LogSink = (level: LogLevel, line: string) => void;

const ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export function createLogger(sink: LogSink, options: { level?: LogLevel; fields?: LogFields } = {}): Logger {
  const min = ORDER[options.level ?? 'info'];
  const base = options.fields ?? {};
  const emit = (level: LogLevel, message: string, fields?: LogFields) => {
    if (ORDER[level] < min) return;
    const record = { time: new Date().toISOString(), level, message, ...base, ...fields };
    sink(level, redact(JSON.stringify(record, errorReplacer)));
  };
  return {
    debug: (m, f) => emit('debug', m, f),
    info: (m, f) => emit('info', m, f),
    warn: (m, f) => emit('warn', m, f),
    error: (m, f) => emit('error', m, f),
    child: (fields) => createLogger(sink, { level: options.level, fields: { ...base, ...fields } }),
  };
}

/** Errors become {name, message, code, cause}: no stack of library internals in a user's log. */
function errorReplacer(_key: string, value: unknown): unknown {
  if (!(value instanceof Error)) return value;
  const out: Record<string, unknown> = { name: value.name, message: value.message };
  const code = (value as { code?: unknown }).code;
  if (code !== undefined) out.code = code;
  if (value.cause !== undefined) out.cause = value.cause;
  return out;
}

export const stderrSink: LogSink = (_level, line) => {
  process.stderr.write(`${line}\n`);
};

export const silentLogger: Logger = createLogger(() => {});
