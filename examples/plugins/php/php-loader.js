// @ts-check
// The PHP plugin's loader (docs/protocols.md section 1): takes the handshake,
// checks the app (the front controller parses; composer.json's ext-*
// requirements are loaded), writes a private php-fpm configuration next to
// its socket in the instance's socket directory, starts php-fpm (or php-cgi
// -b when php-fpm is missing) in its own process group, waits until the
// FastCGI socket accepts connections and reports it as protocol `fastcgi`.
//
// One pool process is one FastCGI server: a php-fpm master with `threads`
// workers (pm = static), or a php-cgi parent with `threads` children. So the
// socket's concurrency is `threads`, and the pool's processes times `threads`
// is the number of PHP workers.
//
// It exits when stdin reports shutdown (one byte, or EOF when the core is
// gone): php-fpm stops gracefully (SIGQUIT), php-cgi with SIGTERM.
import { spawn, spawnSync } from 'node:child_process';
import { accessSync, constants, createReadStream, readFileSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import net from 'node:net';
import { delimiter, join } from 'node:path';
import { createInterface } from 'node:readline';

const say = (text) => writeSync(1, text);

/** The first executable among these names, on PATH and in the sbin directories (php-fpm lives in /usr/sbin). */
function findProgram(names) {
  const dirs = [...(process.env.PATH ?? '').split(delimiter), '/usr/local/sbin', '/usr/sbin', '/sbin'].filter(Boolean);
  for (const name of names) {
    if (name.includes('/')) { if (executable(name)) return name; continue; }
    for (const dir of dirs) if (executable(join(dir, name))) return join(dir, name);
  }
  return undefined;
}

function executable(path) {
  try { accessSync(path, constants.X_OK); return true; } catch { return false; }
}

/** Reports a load error (the `!> Error` block) and exits. */
function loadError(props, detail) {
  say('!> Error\n');
  for (const [k, v] of Object.entries(props)) say(`!> ${k}: ${String(v).replace(/\n/g, ' ')}\n`);
  say('!> \n');
  say(detail.endsWith('\n') ? detail : `${detail}\n`);
  process.exit(1);
}

/** The version of a PHP binary, e.g. "8.2". */
function phpVersion(bin) {
  const r = spawnSync(bin, ['-v'], { encoding: 'utf8', timeout: 10000 });
  return /PHP (\d+\.\d+)/.exec(r.stdout ?? '')?.[1] ?? '';
}

/** A parse error in the front controller fails the spawn with the file and line, as a loader's load error. */
function lint(linter, file, version) {
  const r = spawnSync(linter, ['-l', file], { encoding: 'utf8', timeout: 30000 });
  if (r.status === 0) return;
  const text = `${r.stdout ?? ''}${r.stderr ?? ''}`;
  const m = /(?:PHP )?(Parse error|Fatal error):\s+(.*) in (\/.*?) on line (\d+)/.exec(text);
  if (!m) return;
  loadError({
    error_class: m[1] === 'Parse error' ? 'ParseError' : 'CompileError',
    summary: `PHP ${m[1]}: ${m[2]} in ${m[3]} on line ${m[4]}`,
    php_file: m[3], php_line: m[4], php_version: version,
  }, `${text.trim()}\n\n${excerpt(m[3], Number(m[4]))}`);
}

/** The lines around `line` of `file`, numbered, the line itself marked. */
export function excerpt(file, line) {
  let lines;
  try { lines = readFileSync(file, 'utf8').split('\n'); } catch { return ''; }
  const from = Math.max(1, line - 3);
  const to = Math.min(lines.length, line + 2);
  const out = [];
  for (let n = from; n <= to; n++) out.push(`${n === line ? '>' : ' '} ${String(n).padStart(4)} | ${lines[n - 1]}`);
  return out.join('\n');
}

/** The extensions composer.json requires (`"ext-mbstring": "*"`) that this PHP does not load. */
function missingExtensions(appRoot, server) {
  let required;
  try {
    const composer = JSON.parse(readFileSync(join(appRoot, 'composer.json'), 'utf8'));
    required = Object.keys({ ...composer.require }).filter((k) => k.startsWith('ext-')).map((k) => k.slice(4).toLowerCase());
  } catch {
    return [];
  }
  if (required.length === 0) return [];
  const r = spawnSync(server, ['-m'], { encoding: 'utf8', timeout: 10000 });
  const loaded = new Set((r.stdout ?? '').split('\n').map((l) => l.trim().toLowerCase()).filter((l) => l && !l.startsWith('[')));
  // Zend OPcache is listed as "Zend OPcache"; composer names it ext-zend-opcache.
  if (loaded.has('zend opcache')) loaded.add('zend-opcache');
  return required.filter((e) => !loaded.has(e));
}

/** php-fpm's configuration for this process: one static pool on a private Unix socket. */
function fpmConfig(opts) {
  const lines = [
    '; Written by passenger-plugin-php for one app process; removed when it exits.',
    '[global]',
    `error_log = ${opts.errorLog}`,
    'log_level = warning',
    'daemonize = no',
    '[app]',
    `listen = ${opts.socket}`,
    'listen.mode = 0600',
    'pm = static',
    `pm.max_children = ${opts.workers}`,
    // The app's environment (envvars, PASSENGER_APP_ENV) reaches PHP's getenv().
    'clear_env = no',
    'catch_workers_output = yes',
    'decorate_workers_output = no',
    `chdir = ${opts.appRoot}`,
    'security.limit_extensions = .php',
  ];
  // A master running as root must name the workers' user; the core runs an app as root only in standalone mode as root.
  if (process.getuid?.() === 0) lines.push('user = root', 'group = root');
  return lines.join('\n') + '\n';
}

function waitForSocket(path, server, timeoutMs) {
  return new Promise((resolve, reject) => {
    const deadline = Date.now() + timeoutMs;
    let exited = false;
    server.once('exit', () => { exited = true; });
    const attempt = () => {
      if (exited) { reject(new Error('exited')); return; }
      const sock = net.connect({ path });
      sock.once('connect', () => { sock.destroy(); resolve(undefined); });
      sock.once('error', () => {
        sock.destroy();
        if (Date.now() > deadline) reject(new Error('timeout'));
        else setTimeout(attempt, 20);
      });
    };
    attempt();
  });
}

async function main() {
  say('!> I have control 1.0\n');
  const args = await readHandshake();
  const appRoot = args.app_root;
  const startupFile = args.startup_file;
  const workers = Math.max(1, Number(args.threads) || 1);
  const sapi = args.php_sapi || 'auto';
  const fpm = sapi === 'cgi' ? undefined : findProgram([args.php_fpm || 'php-fpm8.2', 'php-fpm']);
  const cgi = sapi === 'fpm' || fpm ? undefined : findProgram(['php-cgi8.2', 'php-cgi']);
  const server = fpm ?? cgi;
  if (!server) {
    loadError({ error_class: 'PhpNotFound', summary: sapi === 'cgi' ? 'php-cgi was not found' : sapi === 'fpm' ? 'php-fpm was not found' : 'neither php-fpm nor php-cgi was found' },
      `Looked on PATH (${process.env.PATH}) and in /usr/local/sbin, /usr/sbin and /sbin.`);
    return;
  }
  const version = phpVersion(server);
  const linter = findProgram(['php8.2', 'php']) ?? cgi ?? findProgram(['php-cgi8.2', 'php-cgi']);
  if (linter) lint(linter, startupFile, version);
  const missing = missingExtensions(appRoot, server);
  if (missing.length > 0) {
    loadError({
      error_class: 'MissingExtension', summary: `PHP extension${missing.length > 1 ? 's' : ''} ${missing.join(', ')} required by composer.json ${missing.length > 1 ? 'are' : 'is'} not loaded by ${server}`,
      missing_extensions: missing.join(','), php_version: version, php_server: server,
    }, `composer.json requires ${missing.map((e) => `ext-${e}`).join(', ')}; \`${server} -m\` does not list ${missing.length > 1 ? 'them' : 'it'}.`);
  }
  const socket = join(args.socket_dir, `php.${process.pid}.sock`);
  const config = join(args.socket_dir, `php-fpm.${process.pid}.conf`);
  const errorLog = join(args.socket_dir, `php-fpm.${process.pid}.log`);
  // Sockets made by php-cgi get the umask's mode: only the app's user (and root) may connect.
  process.umask(0o077);
  let child;
  const tail = [];
  const relay = (d) => {
    process.stderr.write(d);
    for (const l of String(d).split('\n')) if (l.trim()) { tail.push(l); if (tail.length > 40) tail.shift(); }
  };
  if (fpm) {
    // php-fpm opens its error log by name, and /proc/self/fd/2 of a socket (node's pipes are socket pairs) cannot be opened:
    // a FIFO carries its log (and its workers' output) to our stderr instead.
    const made = spawnSync('mkfifo', ['-m', '600', errorLog]);
    if (made.status !== 0) loadError({ error_class: 'PhpServerFailed', summary: `cannot make the FIFO ${errorLog} for php-fpm's log` }, String(made.stderr));
    createReadStream(errorLog).on('data', relay).on('error', () => {});
    writeFileSync(config, fpmConfig({ socket, workers, appRoot, errorLog }), { mode: 0o600 });
    child = underKeeper(fpm, ['--nodaemonize', '--fpm-config', config, ...(process.getuid?.() === 0 ? ['--allow-to-run-as-root'] : [])], 'QUIT', process.env);
  } else {
    // One parent and `workers` children; no recycling (the pool has max_requests for that).
    child = underKeeper(cgi, ['-b', socket], 'TERM', { ...process.env, PHP_FCGI_CHILDREN: String(workers), PHP_FCGI_MAX_REQUESTS: '0' });
  }
  child.stdout.on('data', relay);
  child.stderr.on('data', relay);
  const cleanUp = () => { rmSync(socket, { force: true }); rmSync(config, { force: true }); rmSync(errorLog, { force: true }); };
  let stopping = false;
  child.once('exit', (code, signal) => {
    cleanUp();
    process.exit(stopping ? 0 : code ?? (signal ? 1 : 0));
  });
  try {
    await waitForSocket(socket, child, 60000);
  } catch {
    child.stdin.end();
    loadError({ error_class: 'PhpServerFailed', summary: `${server} did not start listening on ${socket}`, php_server: server, php_version: version }, tail.join('\n'));
  }
  say(`!> Ready\n!> socket: main;unix:${socket};fastcgi;${workers}\n!> php_server: ${server}\n!> \n`);
  // Shutdown: one byte on stdin, or its EOF, or SIGTERM: the keeper stops the server when its stdin closes.
  const stop = () => { stopping = true; child.stdin.end(); };
  process.stdin.once('data', stop).once('end', stop).resume();
  process.on('SIGTERM', stop);
}

// php-fpm makes itself a session leader (setsid), and its workers outlive a
// killed master: the process-group kill that stops a loader never reaches
// them. So the server runs under a keeper: a few lines of /bin/sh in a session
// of their own that start it, and when their stdin (a pipe from this loader)
// reaches EOF, whether the loader asked or died (SIGKILL included), send it
// the graceful stop signal, then SIGKILL its whole group (master and workers)
// after a grace period; they exit with the server's status.
const KEEPER = [
  'exec 3<&0 </dev/null',
  '"$@" 3<&- &',
  'server=$!',
  '{ read -r _ <&3; kill -s "$STOP_SIGNAL" "$server" 2>/dev/null; sleep 10; kill -KILL "-$server" 2>/dev/null; kill -KILL "$server" 2>/dev/null; } &',
  'exec 3<&-',
  'wait "$server"; status=$?',
  // Workers of a master that died hard; then the watch above and its sleep (this group).
  'kill -KILL "-$server" 2>/dev/null',
  'trap "exit $status" TERM',
  // dash's kill takes no "--"; 0 is this group (the keeper leads it).
  'kill -TERM 0 2>/dev/null',
  'exit "$status"',
].join('\n');

function underKeeper(command, args, stopSignal, env) {
  return spawn('/bin/sh', ['-c', KEEPER, 'passenger-php-keeper', command, ...args], {
    stdio: ['pipe', 'pipe', 'pipe'], detached: true, env: { ...env, STOP_SIGNAL: stopSignal },
  });
}

/** The spawner's keys, after "You have control 1.0", until the empty line. */
function readHandshake() {
  return new Promise((resolve) => {
    /** @type {Record<string, string>} */
    const args = {};
    const lines = createInterface({ input: process.stdin });
    let greeted = false;
    lines.on('line', (line) => {
      if (!greeted) { greeted = line === 'You have control 1.0'; return; }
      if (line !== '') { const i = line.indexOf(': '); args[line.slice(0, i)] = line.slice(i + 2); return; }
      lines.close();
      resolve(args);
    });
  });
}

await main();
