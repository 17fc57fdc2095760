# frozen_string_literal: true

module PassengerLoader
  # Loader diagnostics go to stderr, which the spawner forwards line by line
  # as "[app pid] line". Each message is written with a single call so lines
  # from concurrent threads do not interleave.
  class Log
    # Same scale as the core's log_level handshake key.
    LEVELS = { error: 1, warn: 2, notice: 3, info: 4, debug: 5 }.freeze

    attr_accessor :level

    def initialize(prefix, level: LEVELS[:notice], io: $stderr)
      @prefix = prefix
      @level = level
      @io = io
    end

    LEVELS.each do |name, value|
      define_method(name) { |message| write(message) if @level >= value }
    end

    def exception(message, error)
      error("#{message}: #{error.full_message(highlight: false, order: :top)}")
    end

    private

    def write(message)
      text = message.lines.map { |line| "#{@prefix}#{line.chomp}\n" }.join
      @io.write(text)
    rescue IOError, SystemCallError
      # stderr is gone (the spawner died); nothing useful left to do.
    end
  end
end
