# Hello world for the bench (Rack): our server, Passenger 6 and puma all load
# this file. Routes: / (tiny body), /1mib, POST /upload (counts the body),
# /sleep?ms=N (keeps the process busy, for the spawn measurement), /pid.
HELLO = "hello world\n".freeze
MIB = ('x' * 1_048_576).freeze
TEXT = { 'content-type' => 'text/plain', 'content-length' => HELLO.bytesize.to_s }.freeze

def count_body(input)
  total = 0
  buffer = String.new
  total += buffer.bytesize while input.read(65_536, buffer)
  total
end

run lambda { |env|
  case env['PATH_INFO']
  when '/1mib'
    [200, { 'content-type' => 'application/octet-stream', 'content-length' => MIB.bytesize.to_s }, [MIB]]
  when '/upload'
    body = "#{count_body(env['rack.input'])}\n"
    [200, { 'content-type' => 'text/plain', 'content-length' => body.bytesize.to_s }, [body]]
  when '/pid'
    [200, { 'content-type' => 'text/plain' }, [Process.pid.to_s]]
  when '/sleep'
    sleep(env['QUERY_STRING'][/ms=(\d+)/, 1].to_i / 1000.0)
    [200, { 'content-type' => 'text/plain', 'content-length' => '6' }, ["slept\n"]]
  else
    [200, TEXT.dup, [HELLO]]
  end
}
