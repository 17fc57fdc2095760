# frozen_string_literal: true

require 'rbconfig'

module PassengerLoader
  # Raised when the spawner does not follow docs/protocols.md section 1.
  class HandshakeError < StandardError; end

  # The spawner side of the conversation on stdin/stdout (docs/protocols.md,
  # section 1). Every control block is written with one call so that output
  # printed by app threads can never split a control line.
  class Handshake
    GREETING = "I have control 1.0"
    REPLY = "You have control 1.0"
    REQUIRED_KEYS = %w[app_root startup_file socket_dir connect_password].freeze

    def initialize(input: STDIN, output: STDOUT)
      @input = input
      @output = output
      @output.sync = true
    end

    # Greets the spawner and returns its `key: value` lines as a Hash with
    # String keys and values (plugin-specific keys included).
    def negotiate
      control(GREETING)
      reply = read_line
      raise HandshakeError, "expected #{REPLY.inspect} from the spawner, got #{reply.inspect}" unless reply == REPLY

      options = read_options
      missing = REQUIRED_KEYS.reject { |key| options[key] && !options[key].empty? }
      raise HandshakeError, "the spawner did not send #{missing.join(', ')}" unless missing.empty?

      options
    end

    # sockets: [{ name:, address:, protocol:, concurrency:, flags: (optional) }]
    def report_ready(sockets)
      lines = ["Ready"]
      sockets.each do |s|
        line = "socket: #{s.fetch(:name)};#{s.fetch(:address)};#{s.fetch(:protocol)};#{s.fetch(:concurrency)}"
        line << ";#{s[:flags]}" if s[:flags]
        lines << line
      end
      control_block(lines)
    end

    # Reports a failed spawn: the control block, then the exception's message
    # and backtrace as plain detail lines.
    def report_error(error, error_class: error.class.name, summary: self.class.summary_of(error))
      # The interpreter and its version let error-report hints name the exact Ruby to run `bundle install` with.
      control_block(["Error", "error_class: #{error_class}", "summary: #{summary}", "html: false",
                     "interpreter: #{RbConfig.ruby}", "ruby_version: #{RUBY_VERSION}"])
      @output.write(error.full_message(highlight: false, order: :top))
      @output.flush
    end

    # First non-blank line of the message: a control line cannot span lines.
    def self.summary_of(error)
      line = error.message.to_s.each_line.map(&:strip).find { |l| !l.empty? }
      line || error.class.name
    end

    private

    def control(line)
      @output.write("!> #{line}\n")
    end

    def control_block(lines)
      @output.write(lines.map { |line| "!> #{line}\n" }.join + "!> \n")
    end

    def read_options
      options = {}
      while (line = read_line) != ""
        key, value = line.split(":", 2)
        raise HandshakeError, "malformed handshake line #{line.inspect}" if value.nil? || key.empty?

        options[key.strip] = value.strip
      end
      options
    end

    def read_line
      line = @input.gets
      raise HandshakeError, "the spawner closed stdin during the handshake" if line.nil?

      line.chomp
    end
  end
end
