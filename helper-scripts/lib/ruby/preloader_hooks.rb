# frozen_string_literal: true

module PassengerLoader
  # The public API for apps loaded by the Rack preloader. Blocks registered
  # with on_fork run in every process forked from the preloader, after the
  # fork and before it serves a request: the place to reconnect to a
  # database, restart a background thread or reopen a connection that must
  # not be shared between processes. In config.ru:
  #
  #   if defined?(PassengerLoader.on_fork)
  #     PassengerLoader.on_fork { ActiveRecord::Base.establish_connection }
  #   end
  #
  # The guard keeps the file working with spawn_method direct, where nothing
  # is forked and the loader does not define the API.
  @fork_hooks = []

  class << self
    def on_fork(&block)
      raise ArgumentError, 'PassengerLoader.on_fork needs a block' unless block

      @fork_hooks << block
      block
    end

    # Runs in the child, in registration order; a failing hook fails the spawn.
    def run_fork_hooks
      @fork_hooks.each(&:call)
    end
  end
end
