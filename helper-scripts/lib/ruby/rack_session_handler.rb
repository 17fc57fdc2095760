# frozen_string_literal: true

require_relative 'rack_app_loader'
require_relative 'rack_input'
require_relative 'rack_response_writer'

module PassengerLoader
  # Serves a loaded Rack app on a listening SessionServer until shutdown
  # (a byte or EOF on stdin, or SIGTERM). Used by the loader and by every
  # child a preloader forks.
  def self.serve_rack(app, options, server, log)
    handler = RackSessionHandler.new(app, log: log, multithread: server.threads > 1,
                                          rack_major: RackAppLoader.rack_major,
                                          script_name: options.fetch('base_uri', '/'))
    server.stop_on_stdin(STDIN)
    # Ruby's own TERM handling, whatever the app installed while loading:
    # SignalException unwinds the main thread at once (run's ensure removes
    # the socket file) and the process then dies by SIGTERM, so the
    # spawner sees how it ended.
    trap('TERM', 'DEFAULT')
    server.run(handler)
  end

  # Turns one session-protocol request into a Rack call and writes the
  # response. Shared by every worker thread; keeps no per-request state.
  class RackSessionHandler
    REQUEST_METHOD = 'REQUEST_METHOD'
    SCRIPT_NAME = 'SCRIPT_NAME'
    PATH_INFO = 'PATH_INFO'
    REQUEST_URI = 'REQUEST_URI'
    QUERY_STRING = 'QUERY_STRING'
    SERVER_NAME = 'SERVER_NAME'
    SERVER_PORT = 'SERVER_PORT'
    SERVER_PROTOCOL = 'SERVER_PROTOCOL'
    CONTENT_LENGTH = 'CONTENT_LENGTH'
    HTTP_CONTENT_TYPE = 'HTTP_CONTENT_TYPE'
    HTTP_CONTENT_LENGTH = 'HTTP_CONTENT_LENGTH'
    HTTPS = 'HTTPS'
    RACK_INPUT = 'rack.input'
    RACK_URL_SCHEME = 'rack.url_scheme'
    RACK_RESPONSE_FINISHED = 'rack.response_finished'
    HEAD = 'HEAD'
    ROOT = '/'
    EMPTY = ''

    # Frozen copies of the keys nearly every request carries. Hash#[]= would
    # otherwise copy each incoming key (or intern it, only for the copy to be
    # collected with the env), once per key per request.
    COMMON_KEYS = %w[
      REQUEST_METHOD REQUEST_URI SCRIPT_NAME PATH_INFO QUERY_STRING SERVER_NAME SERVER_PORT SERVER_PROTOCOL
      REMOTE_ADDR REMOTE_PORT HTTPS CONTENT_TYPE CONTENT_LENGTH
      HTTP_HOST HTTP_USER_AGENT HTTP_ACCEPT HTTP_ACCEPT_ENCODING HTTP_ACCEPT_LANGUAGE HTTP_CONNECTION
      HTTP_COOKIE HTTP_REFERER HTTP_CACHE_CONTROL HTTP_PRAGMA HTTP_ORIGIN HTTP_UPGRADE_INSECURE_REQUESTS
      HTTP_IF_NONE_MATCH HTTP_IF_MODIFIED_SINCE HTTP_AUTHORIZATION HTTP_X_REQUESTED_WITH HTTP_X_CSRF_TOKEN
      HTTP_X_FORWARDED_FOR HTTP_X_FORWARDED_PROTO HTTP_X_FORWARDED_HOST HTTP_X_REAL_IP HTTP_X_REQUEST_ID
      HTTP_SEC_FETCH_SITE HTTP_SEC_FETCH_MODE HTTP_SEC_FETCH_DEST HTTP_SEC_FETCH_USER
      HTTP_SEC_CH_UA HTTP_SEC_CH_UA_MOBILE HTTP_SEC_CH_UA_PLATFORM HTTP_DNT HTTP_RANGE HTTP_TE HTTP_VIA
    ].to_h { |key| [key, key] }.freeze

    # app: the Rack app. rack_major: the major version of the loaded Rack
    # (nil when the app runs without the rack gem).
    def initialize(app, log:, multithread:, rack_major:, script_name: EMPTY, server_software: 'passenger-ts')
      @app = app
      @log = log
      @rack3 = rack_major.to_i >= 3
      @default_script_name = script_name == ROOT ? EMPTY : script_name.chomp(ROOT)
      @env_template = env_template(multithread, rack_major, server_software).freeze
    end

    # pairs: the request head's KEY, VALUE, ... strings after the password
    # (and after PASSENGER_KEEP_ALIVE). rest: body bytes read together with
    # the head (or nil). keep_alive: the core asked to keep the connection;
    # then the body is exactly CONTENT_LENGTH bytes (none without it).
    # Returns true when the connection may carry the next request.
    def call(socket, pairs, rest, keep_alive = false)
      env = build_env(pairs)
      length = content_length(env)
      length ||= 0 if keep_alive
      input = RackInput.new(socket, rest, length)
      env[RACK_INPUT] = input
      env[RACK_RESPONSE_FINISHED] = [] if @rack3
      writer = RackResponseWriter.new(socket, env[REQUEST_METHOD] == HEAD, @rack3)
      ok = serve(env, writer, input)
      if keep_alive && length
        ok = false unless writer.complete?
        # The body must be consumed whole for the next head to follow it.
        input.skip_rest && ok
      else
        close_connection(input)
        false
      end
    end

    private

    def env_template(multithread, rack_major, server_software)
      template = {
        'rack.errors' => $stderr,
        'rack.multithread' => multithread,
        'rack.multiprocess' => true,
        'rack.run_once' => false,
        'rack.hijack?' => false,
        RACK_URL_SCHEME => 'http',
        'SERVER_SOFTWARE' => server_software,
        SCRIPT_NAME => @default_script_name,
        QUERY_STRING => EMPTY,
        SERVER_PROTOCOL => 'HTTP/1.1'
      }
      # Rack 3 dropped rack.version; Rack 2 (and Rack-less apps) expect [1, 3].
      template['rack.version'] = [1, 3].freeze unless rack_major.to_i >= 3
      template
    end

    def build_env(pairs)
      env = @env_template.dup
      i = 0
      n = pairs.size
      while i < n
        key = pairs[i]
        env[COMMON_KEYS[key] || key] = pairs[i + 1]
        i += 2
      end
      # Rack forbids these two; the core sends the real values as
      # CONTENT_TYPE and CONTENT_LENGTH.
      env.delete(HTTP_CONTENT_TYPE)
      env.delete(HTTP_CONTENT_LENGTH)
      env[RACK_URL_SCHEME] = 'https' if env[HTTPS] == 'on'
      normalize_paths(env)
      env[SERVER_NAME] ||= 'localhost'
      env[SERVER_PORT] ||= env[RACK_URL_SCHEME] == 'https' ? '443' : '80'
      env
    end

    # The Rack SPEC: SCRIPT_NAME is "" or starts with "/" (never "/" itself);
    # PATH_INFO is "" or starts with "/"; they are not both empty.
    def normalize_paths(env)
      env[SCRIPT_NAME] = EMPTY if env[SCRIPT_NAME] == ROOT
      path = env[PATH_INFO] ||= path_from_request_uri(env)
      env[PATH_INFO] = "/#{path}" unless path.empty? || path.start_with?(ROOT)
      env[PATH_INFO] = ROOT if env[PATH_INFO].empty? && env[SCRIPT_NAME].empty?
    end

    def path_from_request_uri(env)
      path = env[REQUEST_URI].to_s.split('?', 2).first.to_s
      script_name = env[SCRIPT_NAME]
      path = path.byteslice(script_name.bytesize..-1) if !script_name.empty? && path.start_with?(script_name)
      path
    end

    def content_length(env)
      value = env[CONTENT_LENGTH]
      value && /\A\d+\z/.match?(value) ? value.to_i : nil
    end

    # True when the app answered without an error.
    def serve(env, writer, input)
      status, headers, body = @app.call(env)
      writer.respond(status, headers, body, stream_input: input)
      true
    rescue ClientDisconnected => e
      error = e
      @log.info("#{request_label(env)}: #{e.message}")
      false
    rescue StandardError, ScriptError => e
      error = e
      @log.exception("Error while handling #{request_label(env)}", e)
      answer_internal_error(writer)
      false
    ensure
      close_body(body, env)
      run_response_finished(env, status, headers, error)
    end

    def answer_internal_error(writer)
      writer.internal_error unless writer.started?
    rescue ClientDisconnected
      # nobody is listening any more
    end

    # Rack requires close to be called whatever happened; middleware relies on
    # it to release locks, connections and to log.
    def close_body(body, env)
      body.close if body.respond_to?(:close)
    rescue StandardError, ScriptError => e
      @log.exception("Error while closing the response body of #{request_label(env)}", e)
    end

    # Rack 3: callbacks registered by the app, newest first; one failing does
    # not stop the others.
    def run_response_finished(env, status, headers, error)
      callbacks = env[RACK_RESPONSE_FINISHED]
      return if callbacks.nil? || callbacks.empty?

      callbacks.reverse_each do |callback|
        callback.call(env, status, headers, error)
      rescue StandardError, ScriptError => e
        @log.exception("Error in a rack.response_finished callback of #{request_label(env)}", e)
      end
    end

    # Drains what is left of the request body so that closing does not reset
    # the connection (Linux resets a Unix socket closed with unread data).
    def close_connection(input)
      input.finish
    rescue SystemCallError, IOError
      # already gone
    end

    def request_label(env)
      "#{env[REQUEST_METHOD]} #{env[REQUEST_URI] || env[PATH_INFO]}"
    end
  end
end
