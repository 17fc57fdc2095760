// The built-in plugins, applied in this order before any configured plugin.
// Each uses only the public API in core/index.ts, as a third-party plugin would.
import type { Plugin } from '../core/index.ts';
import asgi from './asgi/index.ts';
import generic from './generic/index.ts';
import meteor from './meteor/index.ts';
import node from './node/index.ts';
import rack from './rack/index.ts';
import wsgi from './wsgi/index.ts';

export function builtinPlugins(): Plugin[] {
  // meteor before node: a bundled Meteor app is a Node app too, with its own configuration.
  return [generic(), rack(), wsgi(), asgi(), meteor(), node()];
}
