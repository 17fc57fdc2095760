// Writes .passengerrc.example from the option table of the core and the built-in plugins.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { renderExampleConfig } from '../core/config/example-file.ts';
import { bootedKernelWithBuiltins } from './builtins-kernel.ts';

writeFileSync(join(import.meta.dirname, '..', '.passengerrc.example'), renderExampleConfig(bootedKernelWithBuiltins().options.list()));
