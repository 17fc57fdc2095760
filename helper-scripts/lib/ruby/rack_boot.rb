# frozen_string_literal: true

require_relative 'loader_log'
require_relative 'batch_scheduling'
require_relative 'passenger_handshake'
require_relative 'rack_app_loader'

module PassengerLoader
  # What rack-loader.rb and rack-preloader.rb do alike before they serve: the
  # handshake, the checked handshake keys, the app's environment and Bundler,
  # loading config.ru, and one way of turning any failure on the way into a
  # spawn error report.
  class RackBoot
    attr_reader :log, :handshake, :options, :app_root

    # role: 'loader' or 'preloader' (log prefix); title: the process title's
    # kind ('RackApp', 'RackPreloader').
    def initialize(role:, title:)
      $stdout.sync = true
      $stderr.sync = true
      @log = Log.new("[rack-#{role}] ")
      @title = title
      @handshake = Handshake.new(input: STDIN, output: STDOUT)
    end

    # Runs the handshake and loads the app; yields it so the caller can open
    # its socket under the same error reporting. Returns the block's value.
    def boot
      @options = @handshake.negotiate
      @log.level = BootOptions.integer(@options, 'log_level', Log::LEVELS[:notice], min: 0)
      BatchScheduling.apply(@options, @log) # a preloader's children inherit it
      @app_root = File.expand_path(@options['app_root'])
      $0 = "Passenger #{@title}: #{@app_root}"
      RackAppLoader.prepare_environment(@app_root, @options.fetch('environment', 'development'))
      RackAppLoader.setup_bundler(@app_root)
      startup_file = File.expand_path(@options['startup_file'], @app_root)
      app = RackAppLoader.load_app(startup_file, builder: @options['rack_builder'])
      yield app
    rescue Exception => e # rubocop:disable Lint/RescueException -- SystemExit, ScriptError and signals too
      BootOptions.fail_spawn(@handshake, e)
    end
  end

  # Helpers a forked preloader child uses too, with its own handshake.
  module BootOptions
    module_function

    def integer(options, key, default, min:)
      value = options.fetch(key, default.to_s)
      number = Integer(value, 10, exception: false)
      return number if number && number >= min

      raise ArgumentError, "handshake key #{key} must be an integer of at least #{min}, got #{value.inspect}"
    end

    def threads(options)
      integer(options, 'threads', 1, min: 1)
    end

    # Reports the error and ends the process. at_exit hooks are skipped: an
    # app's hook (e.g. a framework that starts its own server at exit) must
    # not run after a failed load.
    def fail_spawn(handshake, error)
      handshake.report_error(error, summary: summary_of(error))
    rescue IOError, SystemCallError
      # the spawner is gone; nobody to tell
    ensure
      Process.exit!(1)
    end

    def summary_of(error)
      return Handshake.summary_of(error) unless error.is_a?(SystemExit)

      detail = error.message == 'exit' ? '' : ": #{Handshake.summary_of(error)}"
      "the application exited while loading (exit status #{error.status})#{detail}"
    end
  end
end
