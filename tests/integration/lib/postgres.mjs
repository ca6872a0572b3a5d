// A throwaway PostgreSQL for integration tests, from Debian's binaries: initdb into a temporary directory and
// pg_ctl start on a free port, with its Unix socket in that directory (no TCP). PostgreSQL refuses to run as
// root, so under root every command runs as the `postgres` system user (runuser) on a directory it owns.
// stop() shuts it down and removes the directory; a test process that dies leaves it to the exit hook.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

export const PG_BIN = '/usr/lib/postgresql/15/bin';

export function postgresAvailable() {
  return fs.existsSync(path.join(PG_BIN, 'initdb')) && fs.existsSync(path.join(PG_BIN, 'pg_ctl'));
}

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

const running = new Set();
process.on('exit', () => {
  for (const pg of running) pg.stopSync();
});

// Runs a PostgreSQL binary (as postgres when we are root); throws with its output when it fails.
function runPg(asPostgres, bin, args, timeoutMs = 60000) {
  const cmd = asPostgres ? 'runuser' : path.join(PG_BIN, bin);
  const argv = asPostgres ? ['-u', 'postgres', '--', path.join(PG_BIN, bin), ...args] : args;
  const r = spawnSync(cmd, argv, { encoding: 'utf8', timeout: timeoutMs });
  if (r.status !== 0) {
    throw new Error(`${bin} ${args.join(' ')} failed (${r.status}): ${r.stdout}${r.stderr}`);
  }
  return r.stdout;
}

export async function startPostgres() {
  const asPostgres = process.getuid?.() === 0;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-pg-'));
  if (asPostgres) {
    const id = spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' });
    const gid = spawnSync('id', ['-g', 'postgres'], { encoding: 'utf8' });
    fs.chownSync(dir, Number(id.stdout), Number(gid.stdout));
  }
  const data = path.join(dir, 'data');
  const port = await freePort();
  runPg(asPostgres, 'initdb', ['-D', data, '-A', 'trust', '-U', 'postgres', '-E', 'UTF8', '--no-sync']);
  runPg(asPostgres, 'pg_ctl', ['-D', data, '-l', path.join(dir, 'server.log'), '-w', '-t', '30', '-o',
    `-p ${port} -k ${dir} -c listen_addresses='' -c fsync=off -c synchronous_commit=off`, 'start']);
  let databases = 0;
  const pg = {
    dir, port,
    conninfo: (db = 'postgres') => `host=${dir} port=${port} user=postgres dbname=${db}`,
    // Runs SQL through psql; returns its unaligned output.
    psql(sql, db = 'postgres') {
      const r = spawnSync('psql', ['-X', '-A', '-t', '-v', 'ON_ERROR_STOP=1', '-h', dir, '-p', String(port),
        '-U', 'postgres', '-d', db, '-c', sql], { encoding: 'utf8', timeout: 30000 });
      if (r.status !== 0) throw new Error(`psql failed: ${r.stderr}`);
      return r.stdout.trim();
    },
    createDatabase() {
      const name = `t${process.pid}_${++databases}`;
      pg.psql(`CREATE DATABASE ${name}`);
      return pg.conninfo(name);
    },
    stopSync() {
      if (!running.has(pg)) return;
      running.delete(pg);
      try {
        runPg(asPostgres, 'pg_ctl', ['-D', data, '-m', 'immediate', '-w', 'stop'], 30000);
      } catch { /* already gone */ }
      fs.rmSync(dir, { recursive: true, force: true });
    },
    async stop() { pg.stopSync(); },
  };
  running.add(pg);
  return pg;
}
