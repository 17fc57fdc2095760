# frozen_string_literal: true

require_relative 'passenger_handshake'
require_relative 'rack_boot'
require_relative 'session_server'
require_relative 'rack_app_loader'
require_relative 'rack_session_handler'
require_relative 'preloader_hooks'

module PassengerLoader
  # What a process forked by the Rack preloader does with its connection:
  # make it stdin and stdout, so that from here on it is exactly a loaded
  # rack-loader (handshake, session server, shutdown byte on stdin), with
  # its stdout output forwarded by the spawner under its own pid.
  class PreloaderChild
    def initialize(conn, app, log:)
      @conn = conn
      @app = app
      @log = log
    end

    # Never returns.
    def run
      become_independent
      handshake = Handshake.new(input: STDIN, output: STDOUT)
      begin
        options = handshake.negotiate
        PassengerLoader.run_fork_hooks
        server = SessionServer.new(socket_dir: options['socket_dir'], password: options['connect_password'],
                                   threads: BootOptions.threads(options), log: @log)
      rescue Exception => e # rubocop:disable Lint/RescueException -- a hook may exit or raise anything
        BootOptions.fail_spawn(handshake, e)
      end
      handshake.report_ready([{ name: 'main', address: server.address, protocol: 'session',
                                concurrency: server.threads, flags: SessionServer::SOCKET_FLAGS }])
      PassengerLoader.serve_rack(@app, options, server, @log)
      exit(0)
    end

    private

    def become_independent
      STDIN.reopen(@conn)
      STDOUT.reopen(@conn)
      @conn.close
      STDOUT.sync = true
      # The spawner learns which process to watch before anything can fail.
      STDOUT.write("!> pid: #{Process.pid}\n")
      # Its own session and process group: the pool stops it with kill(-pid).
      Process.setsid
      # Every child would otherwise continue the preloader's random sequence.
      Random.srand
      $0 = $0.sub('Passenger RackPreloader', 'Passenger RackApp')
    end
  end
end
