import type pg from "pg";

/**
 * One connection of the pool for the caller's own statements, given back with `release`.
 * The pool takes its error listener off a client it hands out, so a connection the server
 * ends while it is out (a restart, a failover) emits 'error' with nobody listening: an
 * uncaught exception that ends the process, and every job it runs with it. Here the error
 * is heard (the next statement fails with it), and the broken connection is discarded at
 * release instead of going back to the pool.
 */
export async function checkOut(pool: pg.Pool): Promise<{ client: pg.PoolClient; release(): void }> {
  const client = await pool.connect();
  let broken: Error | undefined;
  const onError = (error: Error) => {
    broken ??= error;
  };
  client.on("error", onError);
  return {
    client,
    release() {
      client.removeListener("error", onError);
      client.release(broken);
    },
  };
}
