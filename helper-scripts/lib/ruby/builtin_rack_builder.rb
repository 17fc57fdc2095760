# frozen_string_literal: true

module PassengerLoader
  # Evaluates a config.ru without the rack gem, for apps that do not bundle
  # it. Supports the rackup DSL that matters in practice: run (app or block),
  # use (with arguments, keywords and a block), map (nested) and warmup.
  class BuiltinRackBuilder
    def self.parse_file(path)
      source = File.read(path, encoding: 'UTF-8')
      builder = new
      eval(source, PassengerLoader.builder_binding(builder), path, 1) # rubocop:disable Security/Eval
      builder.to_app
    end

    def initialize(default_app = nil, &block)
      @middleware = []
      @run = default_app
      @map = nil
      @warmup = nil
      instance_eval(&block) if block
    end

    def use(middleware, *args, &block)
      @middleware << proc { |app| middleware.new(app, *args, &block) }
    end
    ruby2_keywords(:use) if respond_to?(:ruby2_keywords, true)

    def run(app = nil, &block)
      raise ArgumentError, 'run takes an app or a block, not both' if app && block

      @run = app || block
    end

    def map(path, &block)
      (@map ||= {})[path] = block
    end

    def warmup(prc = nil, &block)
      @warmup = prc || block
    end

    def to_app
      app = @map ? mapped_app : @run
      raise ArgumentError, "#{self.class.name}: missing run or map statement" unless app

      app = @middleware.reverse.inject(app) { |inner, wrap| wrap.call(inner) }
      @warmup&.call(app)
      app
    end

    private

    # Each map block is a builder of its own; what `run` gave at this level
    # answers the paths no map claims.
    def mapped_app
      mapping = @map.to_h { |path, block| [path, self.class.new(@run, &block).to_app] }
      mapping['/'] ||= @run if @run
      PathMap.new(mapping)
    end

    # Routes by path prefix (at a "/" boundary, longest first), moving the
    # matched prefix from PATH_INFO to SCRIPT_NAME for the inner app.
    class PathMap
      NOT_FOUND_HEADERS = { 'content-type' => 'text/plain', 'x-cascade' => 'pass' }.freeze

      def initialize(mapping)
        @routes = mapping.map do |location, app|
          raise ArgumentError, "map paths must start with /, got #{location.inspect}" unless location.start_with?('/')

          [location.chomp('/'), app]
        end
        @routes.sort_by! { |location, _| -location.bytesize }
      end

      def call(env)
        script_name = env['SCRIPT_NAME']
        path = env['PATH_INFO'].to_s
        @routes.each do |location, app|
          next unless path == location || location.empty? || path.start_with?("#{location}/")

          begin
            env['SCRIPT_NAME'] = script_name + location
            env['PATH_INFO'] = path.byteslice(location.bytesize..-1)
            return app.call(env)
          ensure
            env['SCRIPT_NAME'] = script_name
            env['PATH_INFO'] = path
          end
        end
        [404, NOT_FOUND_HEADERS.dup, ["Not Found: #{path}"]]
      end
    end
  end

  # A binding whose self is the builder but whose constant scope is the top
  # level, so classes defined in config.ru are top-level classes (as under
  # rackup). It must be created outside any module body, hence the lambda
  # below.
  def self.builder_binding(builder)
    BUILDER_BINDING.call(builder)
  end
end

PassengerLoader::BUILDER_BINDING = ->(builder) { builder.instance_eval { binding } }
