# frozen_string_literal: true

require 'socket'

module PassengerLoader
  # The preloader's command socket (docs/protocols.md, "Preloader"): a
  # private Unix socket on which the spawner sends `spawn <password>`; each
  # accepted command forks a child that gets the connection. The parent
  # serves one command at a time, in its only thread, so a fork never copies
  # a half-done command or another thread's lock.
  class PreloaderServer
    MAX_UNIX_PATH = 107
    COMMAND_TIMEOUT = 10.0
    MAX_COMMAND_SIZE = 1024

    def initialize(socket_dir:, password:, log:)
      @password = password.b
      @log = log
      @owner_pid = Process.pid
      @path = File.join(socket_dir, "preloader.#{Process.pid}.#{Random.urandom(6).unpack1('H*')}.sock")
      raise ArgumentError, "socket path #{@path} is longer than #{MAX_UNIX_PATH} bytes" if @path.bytesize > MAX_UNIX_PATH

      old_umask = File.umask(0o177) # the socket file is created 0600
      begin
        @server = UNIXServer.new(@path)
      ensure
        File.umask(old_umask)
      end
    end

    def address
      "unix:#{@path}"
    end

    # Serves commands until a byte or EOF arrives on `control` (the
    # spawner's stdin). The block runs in each forked child with the
    # connection and must not return.
    def run(control, &child)
      loop do
        readable, = IO.select([@server, control])
        break if readable.include?(control) && shutdown_requested?(control)

        conn = accept
        serve(conn, &child) if conn
      end
    ensure
      close
    end

    def close
      @server.close unless @server.closed?
      File.unlink(@path) if Process.pid == @owner_pid
    rescue IOError, Errno::ENOENT
      # closed or removed already
    end

    private

    def shutdown_requested?(control)
      control.read_nonblock(1)
      true
    rescue IO::WaitReadable
      false
    rescue EOFError, IOError, SystemCallError
      true
    end

    def accept
      @server.accept_nonblock
    rescue IO::WaitReadable, Errno::EINTR, Errno::ECONNABORTED
      nil
    end

    def serve(conn, &child)
      command, password = read_command(conn)&.split(' ', 2)
      if command != 'spawn' || !password || !secure_compare(password.b, @password)
        refuse(conn, command == 'spawn' ? 'wrong password' : "unknown command #{command.inspect}")
        return
      end
      $stdout.flush
      $stderr.flush
      pid = Process.fork do
        @server.close # the socket file stays: it is the preloader's
        child.call(conn)
      end
      Process.detach(pid) # reaps it, so the spawner sees its pid vanish when it exits
      @log.debug("forked process #{pid}")
    rescue SystemCallError => e
      refuse(conn, "fork failed: #{e.message}")
    ensure
      conn.close unless conn.closed?
    end

    # One line, bounded in size and time: a stuck client must not stall spawning.
    def read_command(conn)
      line = +''
      deadline = Process.clock_gettime(Process::CLOCK_MONOTONIC) + COMMAND_TIMEOUT
      until line.include?("\n")
        remaining = deadline - Process.clock_gettime(Process::CLOCK_MONOTONIC)
        return nil if remaining <= 0 || line.bytesize > MAX_COMMAND_SIZE || !conn.wait_readable(remaining)

        line << conn.read_nonblock(MAX_COMMAND_SIZE)
      end
      line.chomp
    rescue IO::WaitReadable
      retry
    rescue EOFError, IOError, SystemCallError
      nil
    end

    def refuse(conn, reason)
      @log.warn("refused a spawn command: #{reason}")
      conn.write("!> refused: #{reason}\n")
    rescue IOError, SystemCallError
      # the spawner hung up
    end

    def secure_compare(given, expected)
      return false unless given.bytesize == expected.bytesize

      diff = 0
      given.bytes.zip(expected.bytes) { |a, b| diff |= a ^ b }
      diff.zero?
    end
  end
end
