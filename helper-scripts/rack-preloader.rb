#!/usr/bin/env ruby
# frozen_string_literal: true

# Loads a Rack app once and forks ready app processes from it (spawn_method
# smart). Started by the spawner like rack-loader.rb, with the same
# handshake on stdin/stdout (docs/protocols.md section 1) and the same boot
# (lib/ruby/rack_boot.rb); instead of an app socket it reports a command
# socket, on which each `spawn` command forks a child (docs/protocols.md,
# "Preloader"). Apps may register code to run in every child with
# PassengerLoader.on_fork (lib/ruby/preloader_hooks.rb).

require_relative 'lib/ruby/rack_boot'
require_relative 'lib/ruby/preloader_hooks'
require_relative 'lib/ruby/preloader_server'
require_relative 'lib/ruby/preloader_child'

module PassengerLoader
  # Garbage left from loading would be copied by every child on first write.
  def self.compact_heap
    if Process.respond_to?(:warmup)
      Process.warmup
    else
      GC.start(full_mark: true, immediate_sweep: true)
    end
  end

  boot = RackBoot.new(role: 'preloader', title: 'RackPreloader')
  app, server = boot.boot do |loaded|
    compact_heap
    [loaded, PreloaderServer.new(socket_dir: boot.options['socket_dir'], password: boot.options['connect_password'],
                                 log: boot.log)]
  end
  boot.handshake.report_ready([{ name: 'preloader', address: server.address, protocol: 'preloader', concurrency: 0 }])
  trap('TERM', 'DEFAULT') # dies at once; run's ensure removes the socket file
  server.run(STDIN) { |conn| PreloaderChild.new(conn, app, log: boot.log).run }
end
