# frozen_string_literal: true

require 'socket'
require 'io/nonblock'
require 'io/wait'

module PassengerLoader
  # Serves the `session` protocol (docs/protocols.md section 2) on a private
  # Unix socket: each request starts with a length-prefixed head of
  # KEY\0VALUE\0 pairs whose first pair must carry the connect password.
  # Independent of Rack: the handler gets the socket, the head pairs (password
  # and keep-alive pair removed), any body bytes that came with the head, and
  # whether the core asked to keep the connection (PASSENGER_KEEP_ALIVE); it
  # returns whether the connection may carry another request.
  #
  # Threads: `threads` workers each accept and serve one connection at a
  # time (all its requests, while the core keeps it); the calling thread is
  # one of them, so threads: 1 serves in the main thread. On #stop, the
  # kept-alive connections whose worker waits for a next head are closed,
  # and those workers exit.
  #
  # Waiting for a head: poll(2) until it is there, then a read. Never a
  # blocking read(2): the core's read of the response just written frees
  # its bytes, and the kernel then wakes every thread blocked in read(2) on
  # the app's end of the socket (a Unix socket has one wait queue for
  # readers and writers, and only poll and epoll waiters are woken by the
  # events they asked for). That wake-up found nothing to read and cost the
  # core a cross-CPU wake-up per request: 12 % of its `perf` samples at one
  # connection. No read is tried first: the core sends the next head only
  # after reading the last response, so it is seldom there yet. Reads of
  # the body and writes stay in blocking mode. #stop wakes a worker waiting
  # for a head by closing its connection, which Ruby turns into an IOError
  # in the waiter.
  class SessionServer
    PASSWORD_KEY = 'PASSENGER_CONNECT_PASSWORD'
    KEEP_ALIVE_KEY = 'PASSENGER_KEEP_ALIVE'
    # The flag the socket line carries: this server keeps connections on request.
    SOCKET_FLAGS = 'keepalive'
    HEAD_READ_SIZE = 16 * 1024
    MAX_HEAD_SIZE = 1024 * 1024
    MAX_UNIX_PATH = 107 # sun_path is 108 bytes including the NUL
    # How long in-flight requests may take to finish after shutdown.
    SHUTDOWN_GRACE = 4.0

    class ProtocolError < StandardError; end

    attr_reader :path, :threads

    def initialize(socket_dir:, password:, threads:, log:, prefix: 'rack')
      raise ArgumentError, "threads must be at least 1, got #{threads}" unless threads.is_a?(Integer) && threads >= 1

      @password = password.b
      @threads = threads
      @log = log
      @path = File.join(socket_dir, "#{prefix}.#{Process.pid}.#{Random.urandom(6).unpack1('H*')}.sock")
      @owner_pid = Process.pid
      @stopping = false
      @deadline = nil
      @server = listen(@path)
      # Kept-alive connections whose worker waits for the next head: #stop closes them.
      @waiting = {}
      @waiting_lock = Mutex.new
    end

    def address
      "unix:#{@path}"
    end

    # Serves until #stop, then waits (bounded) for in-flight requests.
    # handler.call(socket, pairs, rest) answers one request; the server
    # closes the socket afterwards.
    def run(handler)
      @handler = handler
      workers = Array.new(@threads - 1) { Thread.new { serve_connections } }
      serve_connections
      wait_for(workers)
    ensure
      close
    end

    # Stops accepting; in-flight requests go on until they finish or the
    # grace period ends. Callable from any thread.
    def stop
      return if @stopping

      @deadline = monotonic_now + SHUTDOWN_GRACE
      waiting = @waiting_lock.synchronize do
        @stopping = true
        @waiting.keys
      end
      # Closed outside the lock: the woken reader takes it on its way out.
      waiting.each { |socket| close_socket(socket) }
      close
    end

    # docs/protocols.md section 1: one byte or EOF on stdin means shut down.
    # Should the main thread still be busy after the grace period, the
    # process exits regardless.
    def stop_on_stdin(input = STDIN)
      Thread.new do
        begin
          input.read(1)
        rescue IOError, SystemCallError
          # a broken stdin means the spawner is gone: shut down as well
        end
        @log.debug('shutdown requested on stdin')
        stop
        sleep(SHUTDOWN_GRACE + 0.5) # the main thread normally ends the process before this
        @log.warn("requests still running #{SHUTDOWN_GRACE}s after shutdown was requested; exiting anyway")
        close
        $stdout.flush
        Process.exit!(0)
      end
    end

    # Closes the listening socket and removes its file (only in the process
    # that created it, should a preloader fork after listening).
    def close
      @server.close unless @server.closed?
    rescue IOError
      # closed concurrently by another thread
    ensure
      remove_socket_file
    end

    private

    def listen(path)
      raise ArgumentError, "socket path #{path} is longer than #{MAX_UNIX_PATH} bytes" if path.bytesize > MAX_UNIX_PATH

      old_umask = File.umask(0o177) # the socket file is created 0600
      begin
        UNIXServer.new(path)
      ensure
        File.umask(old_umask)
      end
    end

    def remove_socket_file
      return unless Process.pid == @owner_pid

      File.unlink(@path)
    rescue Errno::ENOENT
      # removed already
    end

    def serve_connections
      buffer = String.new(capacity: HEAD_READ_SIZE) # reused for every request head of this thread
      while (socket = accept)
        socket.nonblock = false
        serve(socket, buffer)
      end
    end

    def accept
      return nil if @stopping

      @server.accept
    rescue IOError, Errno::EBADF
      nil # the listening socket was closed by #stop
    rescue Errno::EINTR, Errno::ECONNABORTED, Errno::EPROTO
      retry
    rescue Errno::EMFILE, Errno::ENFILE, Errno::ENOBUFS, Errno::ENOMEM => e
      @log.error("accept failed: #{e.message}; retrying")
      sleep 0.1
      retry
    end

    # Serves the requests of one connection: one, or more while the core asks
    # to keep it and each response went out whole.
    def serve(socket, buffer)
      first = true
      loop do
        pairs, rest = read_head(socket, buffer)
        return if pairs.nil?

        # The password authenticates the connection: checked in full on its first head
        # (a constant-time compare costs more than the rest of a hello-world request).
        unless first ? authorized?(pairs) : pairs[0] == PASSWORD_KEY
          @log.warn('closed a session connection that did not carry the right connect password')
          return
        end
        first = false
        pairs.shift # the password pair
        pairs.shift
        keep_alive = pairs[0] == KEEP_ALIVE_KEY
        if keep_alive
          pairs.shift
          pairs.shift
        end
        reusable = @handler.call(socket, pairs, rest, keep_alive)
        return unless keep_alive && reusable == true && wait_for_next_head(socket)
      end
    rescue ProtocolError => e
      @log.warn("closed a malformed session connection: #{e.message}")
    rescue StandardError => e
      @log.exception('Unexpected error on a session connection', e)
    ensure
      close_socket(socket)
    end

    # Marks the connection as waiting for its next head, which #stop may then
    # close: false if the server is stopping already.
    def wait_for_next_head(socket)
      @waiting_lock.synchronize do
        return false if @stopping

        @waiting[socket] = true
      end
    end

    def done_waiting(socket)
      @waiting_lock.synchronize { @waiting.delete(socket) }
    end

    # Returns [pairs, rest]: the head split into KEY, VALUE, ... strings and
    # the body bytes that arrived with it (nil if none). Usually one read.
    def read_head(socket, buffer)
      begin
        data = first_head_bytes(socket, buffer)
      ensure
        done_waiting(socket)
      end
      data << socket.readpartial(HEAD_READ_SIZE) while data.bytesize < 4
      size = data.unpack1('N')
      raise ProtocolError, "request head of #{size} bytes is too large" if size > MAX_HEAD_SIZE

      total = 4 + size
      data << socket.readpartial([total - data.bytesize, HEAD_READ_SIZE].max) while data.bytesize < total
      rest = data.bytesize > total ? data.byteslice(total, data.bytesize - total) : nil
      [split_head(data.byteslice(4, size)), rest]
    rescue EOFError, Errno::ECONNRESET
      nil # the core gave up on this connection before sending a head
    rescue IOError
      nil # closed by #stop while waiting for the next head
    end

    # The first bytes of a head, waited for in poll(2) (see the class comment).
    def first_head_bytes(socket, buffer)
      socket.wait_readable
      socket.readpartial(HEAD_READ_SIZE, buffer)
    end

    def split_head(head)
      raise ProtocolError, 'request head does not end with NUL' unless head.end_with?("\0")

      pairs = head.split("\0", -1)
      pairs.pop # the empty string after the final NUL
      raise ProtocolError, 'request head has a key without a value' if pairs.size.odd?

      pairs
    end

    def authorized?(pairs)
      pairs[0] == PASSWORD_KEY && secure_compare(pairs[1], @password)
    end

    # Constant time for equal lengths, so the password cannot be guessed byte
    # by byte from response timings.
    def secure_compare(given, expected)
      return false unless given.bytesize == expected.bytesize

      diff = 0
      i = 0
      while i < expected.bytesize
        diff |= given.getbyte(i) ^ expected.getbyte(i)
        i += 1
      end
      diff.zero?
    end

    def close_socket(socket)
      socket.close unless socket.closed?
    rescue IOError, SystemCallError
      # already gone
    end

    def wait_for(workers)
      workers.each do |worker|
        remaining = @deadline ? @deadline - monotonic_now : nil
        break if remaining && remaining <= 0

        worker.join(remaining)
      end
    end

    def monotonic_now
      Process.clock_gettime(Process::CLOCK_MONOTONIC)
    end
  end
end
