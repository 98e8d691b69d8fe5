/**
 * DuckDB for the demo, which reads back what it wrote as an analyst would. DuckDB is a
 * devDependency: import this module lazily, where the demo needs it.
 */
import { type DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';

/** An in-memory DuckDB for one use, closed after it. */
export async function withDuckDb<T>(use: (connection: DuckDBConnection) => Promise<T>): Promise<T> {
  const instance = await DuckDBInstance.create(':memory:', { threads: '2' });
  const connection = await instance.connect();
  try {
    return await use(connection);
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}

export function sqlString(value: string): string {
  return `'${value.replaceAll("'", "''")}'`;
}
