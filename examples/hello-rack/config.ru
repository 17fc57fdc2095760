# The smallest Rack app.
run ->(env) { [200, { 'content-type' => 'text/plain' }, ["Hello from Ruby #{RUBY_VERSION}, process #{Process.pid}\n"]] }
