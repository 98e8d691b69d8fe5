/** Option parsers the commands share; commander prints their message beside the option's name. */
import { InvalidArgumentError } from 'commander';

export function wholeNumber(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError('expected a whole number ≥ 0');
  return n;
}
