#!/usr/bin/env ruby
# frozen_string_literal: true

# Loads a Rack app (config.ru) and serves it over the `session` protocol.
# Started by the spawner as `ruby rack-loader.rb`; speaks the handshake of
# docs/protocols.md section 1 on stdin/stdout and section 2 on a Unix socket.
# Needs no gems itself: the rack gem is used when the app can load it, a
# built-in config.ru evaluator otherwise. Booting is shared with
# rack-preloader.rb (lib/ruby/rack_boot.rb).

require_relative 'lib/ruby/rack_boot'
require_relative 'lib/ruby/session_server'
require_relative 'lib/ruby/rack_session_handler'

module PassengerLoader
  boot = RackBoot.new(role: 'loader', title: 'RackApp')
  app, server = boot.boot do |loaded|
    [loaded, SessionServer.new(socket_dir: boot.options['socket_dir'], password: boot.options['connect_password'],
                               threads: BootOptions.threads(boot.options), log: boot.log)]
  end
  boot.handshake.report_ready([{ name: 'main', address: server.address, protocol: 'session',
                                 concurrency: server.threads, flags: SessionServer::SOCKET_FLAGS }])
  PassengerLoader.serve_rack(app, boot.options, server, boot.log)
end
