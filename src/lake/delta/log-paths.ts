/** Where a Delta table's log files are: `<table>/_delta_log/<version, 20 digits>.json` and the rest. */

export const LOG_FOLDER = '_delta_log';

export function logFolder(tableRoot: string): string {
  return `${tableRoot}/${LOG_FOLDER}`;
}

const COMMIT_FILE = /^(\d{20})\.json$/;

/** The version of a commit file name (`<20 digits>.json`), or undefined for any other file. */
export function commitVersion(fileName: string): number | undefined {
  const match = COMMIT_FILE.exec(fileName);
  return match ? Number(match[1]) : undefined;
}

export function commitPath(tableRoot: string, version: number): string {
  if (!Number.isSafeInteger(version) || version < 0) throw new RangeError(`not a Delta version: ${version}`);
  return `${logFolder(tableRoot)}/${String(version).padStart(20, '0')}.json`;
}
