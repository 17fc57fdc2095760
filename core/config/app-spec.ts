/** The options the core itself reads; plugins add their own keys. */
export interface CoreOptions {
  environment: string;
  app_name?: string;
  trace_context: boolean;
  app_type?: string;
  startup_file?: string;
  app_start_command?: string;
  base_uri: string;
  min_instances: number;
  max_instances: number;
  max_request_queue_size: number;
  request_queue_timeout: number;
  max_requests: number;
  max_request_time: number;
  buffer_request_body: 'auto' | 'on' | 'off';
  buffer_response: 'auto' | 'on' | 'off';
  memory_limit: number;
  start_timeout: number;
  spawn_method: 'smart' | 'direct';
  max_preloader_idle_time: number;
  threads: number;
  envvars: Record<string, string>;
  friendly_error_pages?: boolean;
  user?: string;
  group?: string;
  restart_dir: string;
  [key: string]: unknown;
}

/**
 * Everything known about one application: the pool's group key and what a spawn needs.
 * `O` types the options a plugin registers (definePlugin<O>), next to the core's.
 */
export interface AppSpec<O extends object = {}> {
  /** Absolute, symlinks resolved. */
  appRoot: string;
  /** A short name for logs and metrics: app_name, else the directory's base name. */
  name: string;
  appType: string;
  /** Absolute path of the startup file (for generic apps: the app root). */
  startupFile: string;
  /** Why the type was chosen, e.g. "found config.ru". */
  detectReason: string;
  options: Readonly<CoreOptions & O>;
  /** Where each option's value came from: "default", a file path, "env PASSENGER_X", "flag --x". */
  sources: Readonly<Record<string, string>>;
  configFile?: string;
  /** Deprecated option names or options its configuration uses, as warnings naming where. */
  deprecations?: string[];
  /** Which front end named the app: decides whose user it runs as when the server is root. */
  frontEnd?: 'standalone' | 'scgi';
}
