// Every error code the server raises, with a one-line meaning. Codes are
// append-only: a removed code is never reused. docs/errors.md mirrors this
// table (a spec checks they agree).
export const codes = {
  // Configuration
  PSG_ERR_CONFIG_PARSE: 'a configuration file could not be read or parsed',
  PSG_ERR_CONFIG_UNKNOWN_KEY: 'a configuration key, flag or environment variable is not a known option',
  PSG_ERR_CONFIG_TYPE: 'an option has a value of the wrong type or out of range',
  PSG_ERR_CONFIG_UNSAFE_JS: 'a JavaScript configuration file would run with more privilege than its app',
  PSG_ERR_CONFIG_UNSAFE: 'running as root, the server refused a configuration file or option that a less privileged user controls',
  PSG_ERR_CONFIG_UNSAFE_PATH: 'a path option names a file or directory that other users could read or replace',
  PSG_ERR_LOG_FILE: 'a log file (log_file, access_log, app_log_file) cannot be opened',
  // Plugins
  PSG_ERR_PLUGIN: 'a plugin threw an error inside a hook',
  PSG_ERR_PLUGIN_TIMEOUT: 'a plugin did not finish a hook in time',
  PSG_ERR_PLUGIN_NOT_FOUND: 'a plugin named in the configuration could not be resolved',
  PSG_ERR_PLUGIN_INVALID: 'a plugin module does not export a valid plugin',
  PSG_ERR_PLUGIN_API_VERSION: 'a plugin targets a plugin API this server does not provide',
  PSG_ERR_PLUGIN_DUPLICATE: 'two plugins registered the same name',
  PSG_ERR_PLUGIN_UNSAFE: 'running as root, the server refused a plugin that a less privileged user names or can change',
  PSG_ERR_PLUGIN_PEER_MISSING: 'a plugin imports passenger-ts, which cannot be found from the plugin\'s folder',
  // Detection
  PSG_ERR_DETECT_NO_MATCH: 'no plugin recognised the application directory',
  PSG_ERR_DETECT_NO_DIR: 'the application directory does not exist',
  // Spawning
  PSG_ERR_SPAWN_NO_LOADER: 'no plugin knows how to start this application type',
  PSG_ERR_SPAWN_FAILED: 'an application process could not be started',
  PSG_ERR_SPAWN_TIMEOUT: 'an application process did not become ready within start_timeout',
  PSG_ERR_SPAWN_PROTOCOL: 'a loader broke the spawn handshake',
  PSG_ERR_SPAWN_ACCESS_DENIED: 'the user an application runs as cannot reach its directory, startup file or loader',
  // Pool
  PSG_ERR_POOL_QUEUE_FULL: 'the request queue of an application is full',
  PSG_ERR_POOL_QUEUE_TIMEOUT: 'a request waited in the queue longer than request_queue_timeout',
  PSG_ERR_POOL_SHUTTING_DOWN: 'the pool is shutting down',
  PSG_ERR_POOL_APP_FAILED: 'the application cannot be started, so the request cannot be served',
  // Request handling
  PSG_ERR_APP_RESPONSE: 'an application sent an invalid or truncated response',
  PSG_ERR_APP_CONNECT: 'the application process could not be reached',
  PSG_ERR_REQUEST_TIMEOUT: 'an application did not answer within max_request_time',
  PSG_ERR_HTTP_BAD_REQUEST: 'a client sent a malformed HTTP request',
  PSG_ERR_HTTP_BODY_TOO_LARGE: 'a request body was larger than max_body_size',
  PSG_ERR_HTTP_NOT_IMPLEMENTED: 'a request used a transfer coding other than chunked',
  PSG_ERR_HTTP_VERSION: 'a request line named an HTTP version other than 1.0 or 1.1',
  PSG_ERR_SCGI_MALFORMED: 'a front web server sent a malformed SCGI request',
  PSG_ERR_SCGI_TOO_LARGE: 'an SCGI request head exceeded the size or count limits',
  PSG_ERR_SCGI_NO_APP: 'an SCGI request did not name an application root',
  PSG_ERR_TLS_CERTIFICATE: 'a TLS certificate or key (ssl_certificate, ssl_certificate_key) is missing, unreadable, not PEM, or the key does not match the certificate',
  // Admin and CLI
  PSG_ERR_ADMIN_AUTH: 'an admin request had a missing or wrong password',
  PSG_ERR_ADMIN_FORBIDDEN: 'an admin request needs the full-access password',
  PSG_ERR_ADMIN_NOT_FOUND: 'an admin request named an unknown endpoint, app or process',
  PSG_ERR_ADMIN_BAD_REQUEST: 'an admin request had a malformed body or the wrong method',
  PSG_ERR_ADMIN_UNREACHABLE: 'the admin socket of an instance could not be reached',
  PSG_ERR_INSTANCE_NOT_FOUND: 'no running instance matched',
  PSG_ERR_INSTANCE_AMBIGUOUS: 'several instances are running and none was chosen',
  PSG_ERR_USAGE: 'the command line could not be understood',
  // Anything else
  PSG_ERR_INTERNAL: 'an unexpected error inside the server (a bug: please report it with the log)',
  // Request handling (continued)
  PSG_ERR_CLIENT_GONE: 'the client went away before its response was complete',
  PSG_ERR_HTTP_BODY_TIMEOUT: 'a request body made no progress for client_body_timeout',
  PSG_ERR_BUFFER_IO: 'a request or response buffer file in the instance directory could not be written or read',
  PSG_ERR_SOCKET_IN_USE: 'another running server already listens on the configured socket',
} as const;

export type ErrorCode = keyof typeof codes;
