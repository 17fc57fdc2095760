# frozen_string_literal: true

require 'stringio'

module PassengerLoader
  # The peer went away in the middle of a request: its body ended early, or a
  # response write failed. Not the app's fault, so it is logged quietly.
  class ClientDisconnected < IOError; end

  # rack.input for a session connection. The body is streamed from the socket
  # on demand (the app is called before any of it is read) and everything
  # received is kept, in memory and then in an unlinked temp file once it
  # grows, so that #rewind works as Rack 2 requires.
  #
  # The body ends at CONTENT_LENGTH when the core sent one (it is exact, and
  # stopping there saves waiting for EOF), otherwise at EOF: the core
  # half-closes its side once the body is complete.
  class RackInput
    READ_SIZE = 64 * 1024
    MEMORY_LIMIT = 1024 * 1024
    # After the response, at most this much unread body is drained before
    # closing (closing a Unix socket with unread data resets the peer).
    DRAIN_LIMIT = 4 * 1024 * 1024
    DRAIN_TIMEOUT = 2.0

    # prefix: body bytes that arrived together with the request head.
    # content_length: Integer, or nil to read until EOF.
    def initialize(socket, prefix, content_length)
      @socket = socket
      @expected = content_length
      @store = nil # StringIO or File holding every byte received so far
      @size = 0
      @pos = 0
      @eof = content_length == 0
      append(prefix) if prefix && !prefix.empty?
    end

    def gets
      line = stored_line_from(@pos)
      until @eof || line&.end_with?("\n")
        from = @size
        break unless receive

        rest = stored_line_from(from)
        next if rest.nil? # the body ended exactly where the stored bytes did

        line = line ? line << rest : rest
      end
      @pos += line.bytesize if line
      line
    end

    def read(length = nil, buffer = nil)
      return read_all(buffer) if length.nil?
      raise ArgumentError, "negative length #{length} given" if length.negative?

      return take(0, buffer) if length.zero?
      return read_through(length, buffer) if length >= READ_SIZE && @size - @pos < length && !@eof

      receive while @size - @pos < length && !@eof
      available = [@size - @pos, length].min

      if available.zero?
        buffer&.clear
        return nil # IO#read(n) semantics: nil at EOF
      end
      take(available, buffer)
    end

    def each
      while (line = gets)
        yield line
      end
      self
    end

    def rewind
      @pos = 0
    end

    def size
      receive until @eof
      @size
    end

    def eof?
      receive while @pos == @size && !@eof
      @pos == @size
    end

    # Rack forbids apps to close rack.input; the connection owns it.
    def close; end

    def binmode
      self
    end

    def binmode?
      true
    end

    def external_encoding
      Encoding::BINARY
    end

    # Called once the response is out: reads (and drops) what the core may
    # still send, bounded, then frees the temp file.
    def finish
      drain unless @eof
    ensure
      @store.close if @store.is_a?(File)
      @store = nil
    end

    # Keep-alive: reads (and drops) exactly the rest of the body, however
    # large, so that the next request head follows; then frees the temp file.
    # False when the body ended early (the connection cannot be reused).
    def skip_rest
      until @eof
        wanted = [@expected - @size, READ_SIZE].min
        @size += @socket.readpartial(wanted, scratch_buffer).bytesize
        @eof = true if @size >= @expected
      end
      true
    rescue EOFError, SystemCallError, IOError
      false
    ensure
      @store.close if @store.is_a?(File)
      @store = nil
    end

    private

    def read_all(buffer)
      receive until @eof
      take(@size - @pos, buffer)
    end

    def take(count, buffer)
      if count.zero? || @store.nil?
        return buffer ? buffer.clear : String.new(encoding: Encoding::BINARY)
      end

      data = if @store.is_a?(File) # pread: no seek, and no copy through Ruby's read buffer
               buffer ? @store.pread(count, @pos, buffer) : @store.pread(count, @pos)
             else
               @store.pos = @pos
               @store.read(count, buffer)
             end
      @pos += data.bytesize
      data
    end

    # A reader that goes through the body in large pieces, in order (the
    # usual upload handler), gets what is stored and not read yet (the body
    # bytes that came with the head, say), then the rest straight from the
    # socket into its buffer: kept too (for #rewind and #gets), but not read
    # back from the store. Smaller pieces are served from the store, so that
    # a read of a few bytes does not cost a syscall.
    def read_through(length, buffer)
      if @pos < @size
        data = take(@size - @pos, buffer)
      else
        data = receive([length, READ_SIZE].min, buffer || String.new(capacity: [length, READ_SIZE].min))
        unless data
          buffer&.clear
          return nil # IO#read(n) semantics: nil at EOF
        end
        @pos += data.bytesize
      end
      while data.bytesize < length && (more = receive([length - data.bytesize, READ_SIZE].min))
        data << more
        @pos += more.bytesize
      end
      data
    end

    # The rest of the line at offset among the bytes received so far (it
    # lacks "\n" when the line is not complete yet), nil when there are none.
    def stored_line_from(offset)
      return nil if @store.nil? || offset >= @size

      @store.pos = offset
      @store.gets("\n")
    end

    # Receives one more piece of the body (at most `limit` bytes, into
    # `into`), stores it, and returns it; false at its end.
    def receive(limit = READ_SIZE, into = scratch_buffer)
      return false if @eof

      wanted = @expected ? [@expected - @size, limit].min : limit
      chunk = @socket.readpartial(wanted, into)
      append(chunk)
      chunk
    rescue EOFError
      @eof = true
      raise ClientDisconnected, "request body ended after #{@size} of #{@expected} bytes" if @expected

      false
    rescue Errno::ECONNRESET
      @eof = true
      raise ClientDisconnected, "connection reset while reading the request body"
    end

    def append(data)
      @store ||= new_store(data.bytesize)
      move_to_file if @store.is_a?(StringIO) && @size + data.bytesize > MEMORY_LIMIT
      if @store.is_a?(File)
        write_at(@store, data, @size)
      else
        @store.seek(0, IO::SEEK_END)
        @store.write(data)
      end
      @size += data.bytesize
      @eof = true if @expected && @size >= @expected
    end

    def new_store(first_size)
      return temp_file if @expected && @expected > MEMORY_LIMIT

      StringIO.new(String.new(capacity: @expected || first_size, encoding: Encoding::BINARY))
    end

    def move_to_file
      file = temp_file
      write_at(file, @store.string, 0)
      @store = file
    end

    # The file is written with pwrite(2) only (one syscall, no seek): its
    # reads (#take, #gets) then never miss bytes held in Ruby's write buffer.
    def write_at(file, data, offset)
      while (written = file.pwrite(data, offset)) < data.bytesize
        data = data.byteslice(written, data.bytesize - written)
        offset += written
      end
    end

    def temp_file
      require 'tempfile'
      file = Tempfile.create('passenger-rack-input')
      File.unlink(file.path) # nothing to clean up if the process dies
      file.binmode
      file
    end

    # One read buffer per thread, reused by every request it serves; what is
    # read into it is copied to the store (or dropped) before the next read.
    def scratch_buffer
      Thread.current[:passenger_rack_input_buffer] ||= String.new(capacity: READ_SIZE)
    end

    # Usually the core has half-closed already and one read sees EOF. If it
    # is still sending, shut down our side first: the response is complete
    # and the core may be waiting to learn that before it stops.
    def drain
      remaining = @expected ? [@expected - @size, DRAIN_LIMIT].min : DRAIN_LIMIT
      deadline = nil
      while remaining.positive?
        case (data = @socket.read_nonblock([remaining, READ_SIZE].min, scratch_buffer, exception: false))
        when nil then break
        when :wait_readable
          unless deadline
            @socket.close_write
            deadline = Process.clock_gettime(Process::CLOCK_MONOTONIC) + DRAIN_TIMEOUT
          end
          left = deadline - Process.clock_gettime(Process::CLOCK_MONOTONIC)
          break if left <= 0 || !IO.select([@socket], nil, nil, left)
        else remaining -= data.bytesize
        end
      end
    rescue SystemCallError, IOError
      # the core closed the connection: nothing left to drain
    end
  end
end
