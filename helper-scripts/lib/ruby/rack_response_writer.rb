# frozen_string_literal: true

require_relative 'rack_input'

module PassengerLoader
  # Writes a Rack response to a session connection as HTTP/1.1 (docs/protocols.md
  # section 2). The body is always framed, by the app's Content-Length (or its
  # own Transfer-Encoding), by a Content-Length we compute for Array bodies, or
  # by chunked encoding, so the core can tell a complete response from a
  # truncated one.
  #
  # Syscalls: the head is held back and goes out with the first body chunk
  # (or with the whole body when it is an Array), using one writev each time.
  # Chunks of an `each` body are written as they come, never held back, so
  # streaming responses (server-sent events, progress output) reach the
  # client when the app produces them.
  class RackResponseWriter
    REASONS = {
      100 => 'Continue', 101 => 'Switching Protocols', 102 => 'Processing', 103 => 'Early Hints',
      200 => 'OK', 201 => 'Created', 202 => 'Accepted', 203 => 'Non-Authoritative Information',
      204 => 'No Content', 205 => 'Reset Content', 206 => 'Partial Content', 207 => 'Multi-Status',
      208 => 'Already Reported', 226 => 'IM Used',
      300 => 'Multiple Choices', 301 => 'Moved Permanently', 302 => 'Found', 303 => 'See Other',
      304 => 'Not Modified', 305 => 'Use Proxy', 307 => 'Temporary Redirect', 308 => 'Permanent Redirect',
      400 => 'Bad Request', 401 => 'Unauthorized', 402 => 'Payment Required', 403 => 'Forbidden',
      404 => 'Not Found', 405 => 'Method Not Allowed', 406 => 'Not Acceptable',
      407 => 'Proxy Authentication Required', 408 => 'Request Timeout', 409 => 'Conflict', 410 => 'Gone',
      411 => 'Length Required', 412 => 'Precondition Failed', 413 => 'Content Too Large',
      414 => 'URI Too Long', 415 => 'Unsupported Media Type', 416 => 'Range Not Satisfiable',
      417 => 'Expectation Failed', 421 => 'Misdirected Request', 422 => 'Unprocessable Content',
      423 => 'Locked', 424 => 'Failed Dependency', 425 => 'Too Early', 426 => 'Upgrade Required',
      428 => 'Precondition Required', 429 => 'Too Many Requests',
      431 => 'Request Header Fields Too Large', 451 => 'Unavailable For Legal Reasons',
      500 => 'Internal Server Error', 501 => 'Not Implemented', 502 => 'Bad Gateway',
      503 => 'Service Unavailable', 504 => 'Gateway Timeout', 505 => 'HTTP Version Not Supported',
      506 => 'Variant Also Negotiates', 507 => 'Insufficient Storage', 508 => 'Loop Detected',
      511 => 'Network Authentication Required'
    }.freeze

    # Status lines are built once, binary so that a copy can start the head.
    STATUS_LINES = Hash.new { |_, status| "HTTP/1.1 #{status} Unknown\r\n".b.freeze }
    REASONS.each { |status, reason| STATUS_LINES[status] = "HTTP/1.1 #{status} #{reason}\r\n".b.freeze }
    STATUS_LINES.freeze

    CRLF = "\r\n"
    HEADER_SEPARATOR = ": "
    LAST_CHUNK = "0\r\n\r\n"
    CHUNKED_HEADER = "Transfer-Encoding: chunked\r\n"
    CONTENT_LENGTH_PREFIX = "Content-Length: "
    ERROR_BODY = "Internal Server Error\n"
    ERROR_HEAD = "HTTP/1.1 500 Internal Server Error\r\nContent-Type: text/plain\r\n" \
                 "Content-Length: #{ERROR_BODY.bytesize}\r\n\r\n"

    # mode: :discard (HEAD, 1xx, 204, 304), :raw (framed by a length the app
    # or we set, or by the app's own Transfer-Encoding) or :chunked.
    # Positional arguments: keywords to Class#new would allocate a Hash per request.
    def initialize(socket, head_request, use_to_ary)
      @socket = socket
      @head_request = head_request
      @use_to_ary = use_to_ary
      @head = nil
      @mode = nil
      @started = false
      @finished = false
      @declared_length = nil # the app's own Content-Length, checked against what it sent
      @body_bytes = 0
      @verifiable = true
    end

    # The response went out whole and exactly as framed, so the connection can
    # carry another request (docs/protocols.md section 2, keep-alive).
    def complete?
      @finished && @verifiable && (@declared_length.nil? || @mode != :raw || @body_bytes == @declared_length)
    end

    # True once any response byte was handed to the socket: from then on an
    # error can only abort the connection, not turn into a 500.
    def started?
      @started
    end

    # Writes the whole response. `stream_input` is what a Rack 3 streaming
    # body reads from.
    def respond(status, headers, body, stream_input: nil)
      status = Integer(status)
      raise ArgumentError, "invalid response status #{status}" unless (100..599).cover?(status)

      # HEAD: the body is closed by the caller but never read (nor to_ary'd, which reads it), as
      # Passenger and Puma do; Rack::Lint fails a HEAD request whose body is read and not empty.
      parts = known_parts(body) unless @head_request
      @head = build_head(status, headers, parts)
      if @head_request
        # nothing to write but the head
      elsif parts
        write_parts(parts)
      elsif body.respond_to?(:each)
        body.each { |chunk| write(chunk) }
      elsif body.respond_to?(:call)
        body.call(RackResponseStream.new(self, stream_input))
      else
        raise TypeError, "response body #{body.class} responds to neither each nor call"
      end
      finish
    end

    # One piece of the body, framed as the head announced.
    def write(chunk)
      raise TypeError, "response body yielded #{chunk.class}, expected a String" unless chunk.is_a?(String)
      return if chunk.empty? || @mode == :discard
      raise IOError, "response already finished" if @finished

      if @mode == :chunked
        send_chunk(chunk)
      elsif @head
        @body_bytes += chunk.bytesize
        send_data(take_head, chunk)
      else
        @body_bytes += chunk.bytesize
        send_data(chunk)
      end
    end

    # Ends the body: the last chunk marker, or the held-back head of a
    # response whose body turned out empty.
    def finish
      return if @finished

      @finished = true
      if @mode == :chunked
        @head ? send_data(take_head, LAST_CHUNK) : send_data(LAST_CHUNK)
      elsif @head
        send_data(take_head)
      end
    end

    def internal_error
      send_data(@head_request ? ERROR_HEAD : ERROR_HEAD + ERROR_BODY)
    end

    private

    # The body parts when they are all known before writing (so the response
    # gets a Content-Length and goes out in one writev), else nil. Rack 3 lets
    # servers use to_ary; Rack 2 proxies hide it because it bypasses close.
    def known_parts(body)
      parts = if body.instance_of?(Array) then body
              elsif @use_to_ary && body.respond_to?(:to_ary) then body.to_ary
              end
      return nil unless parts.is_a?(Array)
      raise TypeError, "response body contains a #{parts.find { |p| !p.is_a?(String) }.class}" unless parts.all?(String)

      parts
    end

    def build_head(status, headers, parts)
      head = STATUS_LINES[status].dup # binary, so any header bytes can be appended
      framed = false
      headers.each do |name, value|
        name = name.to_s
        next if name.start_with?('rack.') # server-internal, never sent
        if framing_header?(name)
          framed = true
          note_app_framing(name, value)
        end
        append_header(head, name, value)
      end
      @mode = framing_mode(status, framed, parts)
      head << CONTENT_LENGTH_PREFIX << parts.sum(&:bytesize).to_s << CRLF if @mode == :raw && !framed && parts
      head << CHUNKED_HEADER if @mode == :chunked
      head << CRLF
    end

    # An app-set Content-Length is checked against the bytes sent; an app's own
    # Transfer-Encoding cannot be checked, so its connection is not reused.
    def note_app_framing(name, value)
      value = value.to_s
      if name.bytesize == 14 && /\A\d+\z/.match?(value) && (@declared_length.nil? || @declared_length == value.to_i)
        @declared_length = value.to_i
      else
        @verifiable = false
      end
    end

    def framing_mode(status, framed, parts)
      if @head_request || status < 200 || status == 204 || status == 304 then :discard
      elsif framed || parts then :raw
      else :chunked
      end
    end

    def framing_header?(name)
      (name.bytesize == 14 && name.casecmp('content-length').zero?) ||
        (name.bytesize == 17 && name.casecmp('transfer-encoding').zero?)
    end

    # Rack 3 gives several values as an Array, Rack 2 joins them with "\n";
    # either way each becomes its own header line (e.g. Set-Cookie).
    def append_header(head, name, value)
      case value
      when Array then value.each { |v| append_header(head, name, v) }
      when String
        if value.include?("\n")
          value.split("\n").each { |v| append_header_line(head, name, v) }
        else
          append_header_line(head, name, value)
        end
      else append_header_line(head, name, value.to_s)
      end
    end

    def append_header_line(head, name, value)
      head << binary(name) << HEADER_SEPARATOR << binary(value) << CRLF
    end

    # Appending a non-ASCII UTF-8 value to the binary head would switch its
    # encoding and make a later binary value incompatible.
    def binary(string)
      string.ascii_only? ? string : string.b
    end

    def write_parts(parts)
      @finished = true
      parts.each { |part| @body_bytes += part.bytesize } if @mode == :raw
      if @mode == :discard || parts.empty? then send_data(take_head)
      elsif parts.size == 1 then send_data(take_head, parts.first)
      else send_all([take_head, *parts])
      end
    end

    def send_chunk(chunk)
      size_line = "#{chunk.bytesize.to_s(16)}\r\n"
      @head ? send_data(take_head, size_line, chunk, CRLF) : send_data(size_line, chunk, CRLF)
    end

    def take_head
      head = @head
      @head = nil
      head
    end

    # IO#write with several strings is a single writev on a socket. Fixed
    # arity because a *rest parameter would allocate an Array per write.
    def send_data(first, second = nil, third = nil, fourth = nil)
      @started = true
      if fourth then @socket.write(first, second, third, fourth)
      elsif third then @socket.write(first, second, third)
      elsif second then @socket.write(first, second)
      else @socket.write(first)
      end
    rescue Errno::EPIPE, Errno::ECONNRESET, Errno::ENOTCONN, IOError => e
      raise ClientDisconnected, "the core closed the connection while the response was written (#{e.message})"
    end

    def send_all(strings)
      @started = true
      @socket.write(*strings)
    rescue Errno::EPIPE, Errno::ECONNRESET, Errno::ENOTCONN, IOError => e
      raise ClientDisconnected, "the core closed the connection while the response was written (#{e.message})"
    end
  end

  # The stream a Rack 3 streaming body (one that responds to call, not each)
  # writes to. Writes go out as chunks immediately; reads come from rack.input.
  # The response ends when the body closes the stream or returns from call.
  class RackResponseStream
    def initialize(writer, input)
      @writer = writer
      @input = input
      @closed = false
    end

    def write(*chunks)
      raise IOError, "closed stream" if @closed

      chunks.sum do |chunk|
        chunk = chunk.to_s
        @writer.write(chunk)
        chunk.bytesize
      end
    end

    def <<(chunk)
      write(chunk)
      self
    end

    def read(*args)
      @input ? @input.read(*args) : nil
    end

    # Every write already went to the socket.
    def flush
      self
    end

    def close_read; end

    def close_write
      @closed = true
      @writer.finish
    end

    def close
      close_write
    end

    def closed?
      @closed
    end
  end
end
