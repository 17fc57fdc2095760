#!/usr/bin/env ruby
# frozen_string_literal: true

# Loads a Rack app (config.ru) and serves it over the `session` protocol.
# Started by the spawner as `ruby rack-loader.rb`; speaks the handshake of
# docs/protocols.md section 1 on stdin/stdout and section 2 on a Unix socket.
# Needs no gems itself: the rack gem is used when the app can load it, a
# built-in config.ru evaluator otherwise.

require_relative 'lib/ruby/loader_log'
require_relative 'lib/ruby/batch_scheduling'
require_relative 'lib/ruby/passenger_handshake'
require_relative 'lib/ruby/session_server'
require_relative 'lib/ruby/rack_app_loader'
require_relative 'lib/ruby/rack_session_handler'

module PassengerLoader
  class RackLoader
    def initialize
      $stdout.sync = true
      $stderr.sync = true
      @log = Log.new('[rack-loader] ')
      @handshake = Handshake.new(input: STDIN, output: STDOUT)
    end

    def run
      options, app, server = boot
      @handshake.report_ready([{ name: 'main', address: server.address, protocol: 'session',
                                 concurrency: server.threads, flags: SessionServer::SOCKET_FLAGS }])
      PassengerLoader.serve_rack(app, options, server, @log)
    end

    private

    # Everything up to a listening socket. Any failure, including the app
    # calling exit or failing to parse, becomes a spawn error report.
    def boot
      options = @handshake.negotiate
      @log.level = integer_option(options, 'log_level', 3, min: 0)
      threads = integer_option(options, 'threads', 1, min: 1)
      BatchScheduling.apply(options, @log)
      app_root = File.expand_path(options['app_root'])
      $0 = "Passenger RackApp: #{app_root}"
      RackAppLoader.prepare_environment(app_root, options.fetch('environment', 'development'))
      RackAppLoader.setup_bundler(app_root)
      startup_file = File.expand_path(options['startup_file'], app_root)
      app = RackAppLoader.load_app(startup_file, builder: options['rack_builder'])
      server = SessionServer.new(socket_dir: options['socket_dir'], password: options['connect_password'],
                                 threads: threads, log: @log)
      [options, app, server]
    rescue Exception => e # rubocop:disable Lint/RescueException -- SystemExit, ScriptError and signals too
      fail_spawn(e)
    end

    def fail_spawn(error)
      if error.is_a?(SystemExit)
        @handshake.report_error(error, summary: exit_summary(error))
      else
        @handshake.report_error(error)
      end
    rescue IOError, SystemCallError
      # the spawner is gone; nobody to tell
    ensure
      # Skip at_exit hooks: an app's hook (e.g. a framework that starts its
      # own server at exit) must not run after a failed load.
      Process.exit!(1)
    end

    def exit_summary(error)
      detail = error.message == 'exit' ? '' : ": #{Handshake.summary_of(error)}"
      "the application exited while loading (exit status #{error.status})#{detail}"
    end

    def integer_option(options, key, default, min:)
      value = options.fetch(key, default.to_s)
      number = Integer(value, 10, exception: false)
      return number if number && number >= min

      raise ArgumentError, "handshake key #{key} must be an integer of at least #{min}, got #{value.inspect}"
    end
  end
end

PassengerLoader::RackLoader.new.run
