// The core's option table. Config files, PASSENGER_* environment variables,
// CLI flags, SCGI parameters, --help and .passengerrc.example all derive from
// these rows (plus the rows plugins register). Names and defaults follow
// Phusion Passenger where it has the option.
import type { OptionDef } from '../registries/options.ts';

export const coreOptions: readonly OptionDef[] = [
  // Instance
  { name: 'port', type: 'integer', min: 0, default: 3000, scope: 'instance', doc: 'TCP port the built-in HTTP engine listens on (0: pick a free one)' },
  { name: 'address', type: 'string', default: '127.0.0.1', scope: 'instance', doc: 'address the built-in HTTP engine listens on' },
  { name: 'scgi_address', type: 'string', scope: 'instance', doc: 'also listen for SCGI on this TCP address (host:port); the instance Unix socket is always there' },
  { name: 'scgi_socket', type: 'string', scope: 'instance', doc: "a fixed path for the SCGI socket nginx connects to, kept across restarts (default: request.sock in the instance directory, new at every start); its directory must be owned by root or the server's user and not writable by group or others" },
  { name: 'scgi_secret_file', type: 'string', scope: 'instance', doc: 'keep the SCGI secret in this file (mode 0600, created if missing), so a generated nginx configuration survives restarts (default: a new secret at every start)' },
  { name: 'instance_registry_dir', type: 'string', scope: 'instance', doc: 'where instance directories are created (default: $TMPDIR or /tmp)' },
  { name: 'log_level', type: 'string', values: ['error', 'warn', 'info', 'debug'], default: 'info', scope: 'instance', doc: 'how much the server logs' },
  { name: 'max_pool_size', type: 'integer', min: 1, default: 6, scope: 'instance', doc: 'app processes for all apps together' },
  { name: 'pool_idle_time', type: 'number', min: 0, default: 300, unit: 'seconds', scope: 'instance', doc: 'idle processes above min_instances are stopped after this long (0: never)' },
  { name: 'plugins', type: 'plugins', default: [], scope: 'instance', doc: 'extra plugins: npm package names (passenger-plugin-x, or the short form x) or paths relative to the app directory' },
  { name: 'default_user', type: 'string', default: 'nobody', scope: 'instance', doc: 'user for apps whose startup file is owned by root, when the core runs as root behind a web server' },
  { name: 'default_group', type: 'string', scope: 'instance', doc: "group for such apps (default: default_user's primary group)" },
  { name: 'shutdown_timeout', type: 'number', min: 0, default: 10, unit: 'seconds', scope: 'instance', doc: 'how long in-flight requests may take to finish when the server stops' },
  { name: 'max_body_size', type: 'integer', min: 0, default: 0, unit: 'bytes', scope: 'instance', doc: 'largest request body accepted (0: no limit); larger bodies get 413' },
  // Application
  { name: 'environment', type: 'string', default: 'development', scope: 'app', doc: 'sets RACK_ENV, RAILS_ENV, NODE_ENV, PASSENGER_APP_ENV; "development" by default, like passenger start' },
  { name: 'app_type', type: 'string', scope: 'app', doc: 'force an app type instead of detecting it (see passenger detect)' },
  { name: 'startup_file', type: 'string', scope: 'app', doc: 'the file that starts the app, relative to the app directory' },
  { name: 'app_start_command', type: 'string', scope: 'app', doc: 'run any app with this /bin/sh command; it must listen on $PORT (makes the app generic)' },
  { name: 'base_uri', type: 'string', default: '/', scope: 'app', doc: 'the URI the app is mounted at (SCRIPT_NAME)' },
  { name: 'min_instances', type: 'integer', min: 0, default: 1, scope: 'app', doc: 'processes kept running even when idle' },
  { name: 'max_instances', type: 'integer', min: 0, default: 0, scope: 'app', doc: 'most processes for this app (0: only max_pool_size limits)' },
  { name: 'max_request_queue_size', type: 'integer', min: 0, default: 100, scope: 'app', doc: 'requests that may wait for a process; more get 503 (0: no limit)' },
  { name: 'request_queue_timeout', type: 'number', min: 0, default: 0, unit: 'seconds', scope: 'app', doc: 'a request waiting longer gets 504 (0: no limit)' },
  { name: 'max_requests', type: 'integer', min: 0, default: 0, scope: 'app', doc: 'a process is replaced after serving this many requests (0: never)' },
  { name: 'max_request_time', type: 'number', min: 0, default: 0, unit: 'seconds', scope: 'app', doc: 'a request running longer gets 504 and its process is replaced (0: no limit)' },
  { name: 'memory_limit', type: 'integer', min: 0, default: 0, unit: 'MiB', scope: 'app', doc: 'a process using more is replaced once idle (0: no limit)' },
  { name: 'start_timeout', type: 'number', min: 0.1, default: 90, unit: 'seconds', scope: 'app', doc: 'how long a process may take to start' },
  { name: 'spawn_method', type: 'string', values: ['smart', 'direct'], default: 'smart', scope: 'app', doc: 'smart: fork processes from a preloader where the app type has one; direct: start each from scratch' },
  { name: 'max_preloader_idle_time', type: 'number', min: 0, default: 300, unit: 'seconds', scope: 'app', doc: 'an idle preloader is stopped after this long (0: never)' },
  { name: 'threads', type: 'integer', min: 1, default: 1, scope: 'app', doc: 'requests one process serves at once, for loaders that support threads (Rack, WSGI)' },
  { name: 'envvars', type: 'object', default: {}, scope: 'app', doc: 'extra environment variables for the app, as an object' },
  { name: 'friendly_error_pages', type: 'boolean', scope: 'app', doc: 'show startup errors in the browser (default: on in development, off otherwise)' },
  { name: 'user', type: 'string', scope: 'app', doc: 'run the app as this user (the server must run as root)' },
  { name: 'group', type: 'string', scope: 'app', doc: "run the app with this group (default: the user's primary group)" },
  { name: 'restart_dir', type: 'string', default: 'tmp', scope: 'app', doc: 'where restart.txt and always_restart.txt are looked for, relative to the app directory' },
];
