# frozen_string_literal: true

require_relative 'builtin_rack_builder'

module PassengerLoader
  # Prepares the process for a Rack app and loads its config.ru. Shared by
  # the loader and (later) a preloader that loads once and forks.
  module RackAppLoader
    module_function

    # environment wins over RACK_ENV/RAILS_ENV inherited from the spawner:
    # it is what the user configured for this app.
    def prepare_environment(app_root, environment)
      ENV['RACK_ENV'] = environment
      ENV['RAILS_ENV'] = environment
      Dir.chdir(app_root)
    end

    # Activates the app's bundle, if it has one, before anything else is
    # required. Offline this fails fast: without a Gemfile.lock Bundler
    # resolves against locally installed gems only, and raises
    # Bundler::GemNotFound ("Could not find gem 'x' in locally installed
    # gems.") rather than contacting rubygems.org; stdout is not a TTY, so
    # bundler/setup raises instead of printing and calling exit.
    def setup_bundler(app_root)
      gemfile = File.join(app_root, 'Gemfile')
      return false unless File.file?(gemfile)

      ENV['BUNDLE_GEMFILE'] = gemfile
      require 'bundler/setup'
      true
    end

    # Returns the app built from config.ru: with Rack::Builder when the rack
    # gem can be loaded (Rack 2 returns [app, options], Rack 3 the app),
    # otherwise with BuiltinRackBuilder. builder: 'builtin' forces the latter.
    def load_app(startup_file, builder: nil)
      return BuiltinRackBuilder.parse_file(startup_file) if builder == 'builtin' || !rack_available?

      result = ::Rack::Builder.parse_file(startup_file)
      result.is_a?(Array) && !result.respond_to?(:call) ? result.first : result
    end

    def rack_available?
      require 'rack'
      true
    rescue LoadError
      false
    end

    # Major version of the rack gem in this process, nil without it.
    def rack_major
      return nil unless defined?(::Rack)

      release = if defined?(::Rack::RELEASE) then ::Rack::RELEASE
                elsif ::Rack.respond_to?(:release) then ::Rack.release
                end
      release&.to_i
    end
  end
end
