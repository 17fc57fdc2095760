#!/usr/bin/env ruby
# frozen_string_literal: true

# Loads a Rack app once and forks ready app processes from it (spawn_method
# smart). Started by the spawner like rack-loader.rb, with the same
# handshake on stdin/stdout (docs/protocols.md section 1); instead of an app
# socket it reports a command socket, on which each `spawn` command forks a
# child (docs/protocols.md, "Preloader"). Apps may register code to run in
# every child with PassengerLoader.on_fork (lib/ruby/preloader_hooks.rb).

require_relative 'lib/ruby/loader_log'
require_relative 'lib/ruby/batch_scheduling'
require_relative 'lib/ruby/passenger_handshake'
require_relative 'lib/ruby/rack_app_loader'
require_relative 'lib/ruby/preloader_hooks'
require_relative 'lib/ruby/preloader_server'
require_relative 'lib/ruby/preloader_child'

module PassengerLoader
  class RackPreloader
    def initialize
      $stdout.sync = true
      $stderr.sync = true
      @log = Log.new('[rack-preloader] ')
      @handshake = Handshake.new(input: STDIN, output: STDOUT)
    end

    def run
      app, server = boot
      @handshake.report_ready([{ name: 'preloader', address: server.address, protocol: 'preloader', concurrency: 0 }])
      trap('TERM', 'DEFAULT') # dies at once; run's ensure removes the socket file
      server.run(STDIN) { |conn| PreloaderChild.new(conn, app, log: @log).run }
    end

    private

    def boot
      options = @handshake.negotiate
      @log.level = Integer(options.fetch('log_level', '3'), 10, exception: false) || 3
      BatchScheduling.apply(options, @log) # inherited by every child it forks
      app_root = File.expand_path(options['app_root'])
      $0 = "Passenger RackPreloader: #{app_root}"
      RackAppLoader.prepare_environment(app_root, options.fetch('environment', 'development'))
      RackAppLoader.setup_bundler(app_root)
      app = RackAppLoader.load_app(File.expand_path(options['startup_file'], app_root), builder: options['rack_builder'])
      compact_heap
      server = PreloaderServer.new(socket_dir: options['socket_dir'], password: options['connect_password'], log: @log)
      [app, server]
    rescue Exception => e # rubocop:disable Lint/RescueException -- SystemExit, ScriptError and signals too
      fail_spawn(e)
    end

    # Garbage left from loading would be copied by every child on first write.
    def compact_heap
      if Process.respond_to?(:warmup)
        Process.warmup
      else
        GC.start(full_mark: true, immediate_sweep: true)
      end
    end

    def fail_spawn(error)
      summary = error.is_a?(SystemExit) ? "the application exited while loading (exit status #{error.status})" : Handshake.summary_of(error)
      @handshake.report_error(error, summary: summary)
    rescue IOError, SystemCallError
      # the spawner is gone
    ensure
      Process.exit!(1)
    end
  end
end

PassengerLoader::RackPreloader.new.run
